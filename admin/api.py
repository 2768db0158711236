"""The admin's API: agencies, services, counters, users, devices, printers."""

from apiflask import APIBlueprint
from flask import current_app

from db import accounts, catalog
from db.accounts import UNSET
from web.auth import agency_scope, current_actor, route
from web.database import clock, get_db
from db.tickets import Change
from printer.transports import file_dirs
from web.events import present_counter, publish, publish_catalog
from web.schemas import (AgencyIn, AgencyOut, CounterIn, CounterOut, DeviceCreatedOut, DeviceIn, DeviceOut, DevicePatch,
                         PrinterIn, PrinterOut, ServiceIn, ServiceOut, UserIn, UserOut)

bp = APIBlueprint("admin_api", __name__, url_prefix="/api/v1", tag="Admin")


@route(bp, "POST", "/agencies", who="admin", body=AgencyIn, out=AgencyOut, status=201,
       summary="Add an agency", errors={409: "Code taken"})
def create_agency(body):
    conn = get_db()
    agency = catalog.create_agency(conn, body["code"], body["name"], color=body["color"],
                                   user_id=current_actor().user_id)
    publish_catalog(conn, agency["id"])
    return agency


@route(bp, "GET", "/agencies", who="authenticated", out=AgencyOut(many=True),
       summary="Every agency")
def list_agencies():
    return catalog.list_agencies(get_db())


@route(bp, "POST", "/services", who="admin", body=ServiceIn, out=ServiceOut, status=201,
       summary="Add a service",
       errors={404: "Unknown agency", 409: "prefix_taken: another live service uses the prefix"})
def create_service(body):
    conn = get_db()
    service = catalog.create_service(
        conn, clock(), body["agency_id"], body["prefix"], body["name"],
        requirements=body["requirements"], daily_quota=body["daily_quota"],
        opens_at=body["opens_at"], closes_at=body["closes_at"],
        target_wait_min=body["target_wait_min"], default_service_s=body["default_service_s"],
        user_id=current_actor().user_id,
    )
    publish_catalog(conn, service["agency_id"], service["id"])
    return service


@route(bp, "POST", "/counters", who="admin", body=CounterIn, out=CounterOut, status=201,
       summary="Add a counter", errors={404: "Unknown agency", 409: "Number taken in this agency"})
def create_counter(body):
    conn = get_db()
    counter = present_counter(catalog.create_counter(
        conn, clock(), body["agency_id"], body["number"], body["service_ids"],
        name=body["name"], user_id=current_actor().user_id,
    ))
    publish(conn, Change(counter=counter))
    publish_catalog(conn, counter["agency_id"])
    return counter


@route(bp, "POST", "/users", who="admin", body=UserIn, out=UserOut, status=201,
       summary="Add a person", errors={409: "Username taken"})
def create_user(body):
    return accounts.create_user(get_db(), body["username"], body["password"], body["role"],
                                agency_id=body["agency_id"], full_name=body["full_name"],
                                actor_id=current_actor().user_id)


@route(bp, "GET", "/users", who=("admin", "supervisor"), out=UserOut(many=True),
       summary="Every person (a supervisor: the people of their agency)")
def list_users():
    return accounts.list_users(get_db(), agency_scope())


@route(bp, "POST", "/devices", who="admin", body=DeviceIn, out=DeviceCreatedOut, status=201,
       summary="Register a kiosk or display; the token is shown only here",
       errors={404: "Unknown printer"})
def create_device(body):
    return accounts.create_device(get_db(), body["kind"], body["name"],
                                  printer_id=body["printer_id"], actor_id=current_actor().user_id)


@route(bp, "GET", "/devices", who="admin", out=DeviceOut(many=True), summary="Every device")
def list_devices():
    return accounts.list_devices(get_db())


@route(bp, "PATCH", "/devices/<id:device_id>", who="admin", body=DevicePatch, out=DeviceOut,
       summary="Rename a device, set its printer or its agencies",
       errors={404: "Unknown device or printer"})
def update_device(device_id, body):
    device = accounts.update_device(
        get_db(), device_id, name=body.get("name", UNSET),
        printer_id=body.get("printer_id", UNSET), agency_ids=body.get("agency_ids", UNSET),
        actor_id=current_actor().user_id,
    )
    if "agency_ids" in body:
        from web.events import disconnect_sockets

        disconnect_sockets(f"device:{device_id}")  # it reconnects into its new agencies' rooms
    return device


@route(bp, "POST", "/printers", who="admin", body=PrinterIn, out=PrinterOut, status=201,
       summary="Add a ticket printer")
def create_printer(body):
    options = {k: v for k, v in body.items() if k not in ("name", "transport", "paper_mm")}
    return accounts.create_printer(get_db(), body["name"], body["transport"], options,
                                   paper_mm=body["paper_mm"],
                                   file_dirs=file_dirs(current_app.config.get("PRINT_FILE_DIRS")),
                                   actor_id=current_actor().user_id)


@route(bp, "GET", "/printers", who="staff", out=PrinterOut(many=True),
       summary="Every printer and its state")
def list_printers():
    from db.printjobs import printer_views

    return printer_views(get_db(), clock())
