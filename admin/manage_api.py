"""The admin's edits: update, deactivate, revoke, reset; holidays; the audit log."""

import io

from apiflask.schemas import FileSchema
from flask import Response, session

from admin.api import bp
from admin.schemas import (AgencyPatch, AuditOut, AuditQuery, CounterPatch, HolidayIn, HolidayOut,
                           PasswordIn, QrIn, ServiceConfigOut, ServicePatch, UserPatch)
from db import admin as admin_db
from db.errors import Invalid
from db.tickets import Change
from web.auth import agency_scope, current_actor, route
from web.database import clock, get_db
from web.events import disconnect_sockets, present_counter, publish, publish_catalog
from web.schemas import AgencyOut, CounterOut, DeviceOut, UserOut


@route(bp, "GET", "/admin/agencies", who=("admin", "supervisor"), out=AgencyOut(many=True),
       summary="Every agency, active or not (a supervisor: their own)")
def list_all_agencies():
    return admin_db.list_all_agencies(get_db(), agency_scope())


@route(bp, "PATCH", "/agencies/<id:agency_id>", who="admin", body=AgencyPatch, out=AgencyOut,
       summary="Rename an agency or (de)activate it", errors={404: "Unknown agency"})
def update_agency(agency_id, body):
    conn = get_db()
    agency = admin_db.update_agency(conn, agency_id, body, actor_id=current_actor().user_id)
    publish_catalog(conn, agency_id)
    return agency


@route(bp, "GET", "/admin/services", who=("admin", "supervisor"), out=ServiceConfigOut(many=True),
       summary="Every service with its settings, active or not")
def list_service_configs():
    return admin_db.list_service_configs(get_db(), agency_scope())


@route(bp, "PATCH", "/services/<id:service_id>", who="admin", body=ServicePatch,
       out=ServiceConfigOut,
       summary="Change a service: name, prefix, requirements, quota, hours, target; (de)activate",
       errors={404: "Unknown service", 409: "prefix_taken: another live service uses the prefix"})
def update_service(service_id, body):
    conn = get_db()
    service = admin_db.update_service(conn, service_id, body, actor_id=current_actor().user_id)
    publish_catalog(conn, service["agency_id"], service_id)
    return service


@route(bp, "GET", "/holidays", who="staff", out=HolidayOut(many=True),
       summary="Days the whole MPP is closed")
def list_holidays():
    return admin_db.list_holidays(get_db())


@route(bp, "POST", "/holidays", who="admin", body=HolidayIn, out=HolidayOut, status=201,
       summary="Close the MPP on a day")
def set_holiday(body):
    conn = get_db()
    # The day's bookings are cancelled with it; the admin gets them listed to tell the citizens.
    holiday, change = admin_db.set_holiday_and_cancel_bookings(
        conn, clock(), body["day"], body["name"], actor_id=current_actor().user_id)
    publish(conn, change)
    publish_catalog(conn)
    return holiday


@route(bp, "DELETE", "/holidays/<string:day>", who="admin", status=204,
       summary="Open the MPP again on a day", errors={404: "Not a holiday"})
def delete_holiday(day):
    conn = get_db()
    admin_db.delete_holiday(conn, day[:10], actor_id=current_actor().user_id)
    publish_catalog(conn)  # kiosks open the day again without a reload
    return ""


@route(bp, "PATCH", "/counters/<id:counter_id>", who="admin", body=CounterPatch, out=CounterOut,
       summary="Renumber or rename a counter, or change its services",
       errors={404: "Unknown counter", 409: "Number taken"})
def update_counter(counter_id, body):
    conn = get_db()
    counter = present_counter(admin_db.update_counter(conn, clock(), counter_id, body,
                                                      actor_id=current_actor().user_id))
    publish(conn, Change(counter=counter))
    return counter


@route(bp, "PATCH", "/users/<id:user_id>", who="admin", body=UserPatch, out=UserOut,
       summary="Change a person's role, agency or name, or (de)activate them",
       errors={404: "Unknown user", 409: "Your own account"})
def update_user(user_id, body):
    user = admin_db.update_user(get_db(), user_id, body, actor_id=current_actor().user_id)
    if {"active", "role", "agency_id"} & set(body):
        # Deactivated: refused on reconnect; a new role or agency: new rooms on reconnect.
        disconnect_sockets(f"user:{user_id}")
    return user


@route(bp, "POST", "/users/<id:user_id>/password", who="admin", body=PasswordIn, status=204,
       summary="Set a new password for a person", errors={404: "Unknown user"})
def reset_password(user_id, body):
    ended = admin_db.reset_password(get_db(), user_id, body["password"],
                                    actor_id=current_actor().user_id)
    disconnect_sockets(*[f"session:{sid}" for sid in ended])
    if user_id == current_actor().user_id:
        session.clear()  # the admin's own session ended with the others
    return ""


@route(bp, "POST", "/devices/<id:device_id>/revoke", who="admin", out=DeviceOut,
       summary="Revoke a device's token", errors={404: "Unknown device"})
def revoke_device(device_id):
    device = admin_db.revoke_device(get_db(), device_id, actor_id=current_actor().user_id)
    disconnect_sockets(f"device:{device_id}")
    return device


@route(bp, "GET", "/audit", who="admin", query=AuditQuery, out=AuditOut(many=True),
       summary="Who did what, newest first")
def list_audit(query):
    return admin_db.list_audit(get_db(), query["limit"], query["before_id"])


@route(bp, "POST", "/admin/qr", who="admin", body=QrIn,
       out=FileSchema(type="string", format="binary"), content_type="image/svg+xml",
       returns="The QR code as SVG",
       summary="A QR code (SVG) of a text, e.g. a device's pairing link; POST keeps it out of logs",
       errors={400: "Text that cannot be encoded"})
def qr_code(body):
    import qrcode
    import qrcode.image.svg

    try:
        image = qrcode.make(body["text"], image_factory=qrcode.image.svg.SvgPathImage, border=2)
    except ValueError:  # the encoder gives up on some inputs
        raise Invalid("validation_error", "Some fields are not valid.", {"text": "Cannot be encoded."})
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
