"""The admin's edits: update, deactivate, revoke, reset; holidays; the audit log."""

import io

from apiflask.schemas import FileSchema
from flask import Response, session

from admin.api import ADMIN_ERRORS, STAFF_VIEW, bp
from admin.schemas import (AgencyPatch, AuditOut, AuditQuery, CounterPatch, HolidayIn, HolidayOut,
                           PasswordIn, QrIn, ServiceConfigOut, ServicePatch, UserPatch)
from db import admin as admin_db
from db.errors import Invalid
from db.tickets import Change
from web.auth import agency_scope, current_actor, requires
from web.database import clock, get_db
from web.events import disconnect_sockets, present_counter, publish, publish_catalog
from web.schemas import AgencyOut, CounterOut, DeviceOut, UserOut


@bp.get("/admin/agencies")
@requires("admin", "supervisor")
@bp.output(AgencyOut(many=True))
@bp.doc(summary="Every agency, active or not (a supervisor: their own)", responses=STAFF_VIEW)
def list_all_agencies():
    return admin_db.list_all_agencies(get_db(), agency_scope())


@bp.patch("/agencies/<id:agency_id>")
@requires("admin")
@bp.input(AgencyPatch, arg_name="body")
@bp.output(AgencyOut)
@bp.doc(summary="Rename an agency or (de)activate it", responses={**ADMIN_ERRORS, 404: "Unknown agency"})
def update_agency(agency_id, body):
    conn = get_db()
    agency = admin_db.update_agency(conn, agency_id, body, actor_id=current_actor().user_id)
    publish_catalog(conn, agency_id)
    return agency


@bp.get("/admin/services")
@requires("admin", "supervisor")
@bp.output(ServiceConfigOut(many=True))
@bp.doc(summary="Every service with its settings, active or not", responses=STAFF_VIEW)
def list_service_configs():
    return admin_db.list_service_configs(get_db(), agency_scope())


@bp.patch("/services/<id:service_id>")
@requires("admin")
@bp.input(ServicePatch, arg_name="body")
@bp.output(ServiceConfigOut)
@bp.doc(summary="Change a service: name, prefix, requirements, quota, hours, target; (de)activate",
        responses={**ADMIN_ERRORS, 404: "Unknown service",
                   409: "prefix_taken: another live service uses the prefix"})
def update_service(service_id, body):
    conn = get_db()
    service = admin_db.update_service(conn, service_id, body, actor_id=current_actor().user_id)
    publish_catalog(conn, service["agency_id"], service_id)
    return service


@bp.get("/holidays")
@requires("staff")
@bp.output(HolidayOut(many=True))
@bp.doc(summary="Days the whole MPP is closed", responses={401: "Not logged in", 403: "Not staff"})
def list_holidays():
    return admin_db.list_holidays(get_db())


@bp.post("/holidays")
@requires("admin")
@bp.input(HolidayIn, arg_name="body")
@bp.output(HolidayOut, status_code=201)
@bp.doc(summary="Close the MPP on a day", responses=ADMIN_ERRORS)
def set_holiday(body):
    conn = get_db()
    # The day's bookings are cancelled with it; the admin gets them listed to tell the citizens.
    holiday, change = admin_db.set_holiday_and_cancel_bookings(
        conn, clock(), body["day"], body["name"], actor_id=current_actor().user_id)
    publish(conn, change)
    publish_catalog(conn)
    return holiday


@bp.delete("/holidays/<string:day>")
@requires("admin")
@bp.output({}, status_code=204)
@bp.doc(summary="Open the MPP again on a day", responses={**ADMIN_ERRORS, 404: "Not a holiday"})
def delete_holiday(day):
    conn = get_db()
    admin_db.delete_holiday(conn, day[:10], actor_id=current_actor().user_id)
    publish_catalog(conn)  # kiosks open the day again without a reload
    return ""


@bp.patch("/counters/<id:counter_id>")
@requires("admin")
@bp.input(CounterPatch, arg_name="body")
@bp.output(CounterOut)
@bp.doc(summary="Renumber or rename a counter, or change its services",
        responses={**ADMIN_ERRORS, 404: "Unknown counter", 409: "Number taken"})
def update_counter(counter_id, body):
    conn = get_db()
    counter = present_counter(admin_db.update_counter(conn, clock(), counter_id, body,
                                                      actor_id=current_actor().user_id))
    publish(conn, Change(counter=counter))
    return counter


@bp.patch("/users/<id:user_id>")
@requires("admin")
@bp.input(UserPatch, arg_name="body")
@bp.output(UserOut)
@bp.doc(summary="Change a person's role, agency or name, or (de)activate them",
        responses={**ADMIN_ERRORS, 404: "Unknown user", 409: "Your own account"})
def update_user(user_id, body):
    user = admin_db.update_user(get_db(), user_id, body, actor_id=current_actor().user_id)
    if {"active", "role", "agency_id"} & set(body):
        # Deactivated: refused on reconnect; a new role or agency: new rooms on reconnect.
        disconnect_sockets(f"user:{user_id}")
    return user


@bp.post("/users/<id:user_id>/password")
@requires("admin")
@bp.input(PasswordIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Set a new password for a person", responses={**ADMIN_ERRORS, 404: "Unknown user"})
def reset_password(user_id, body):
    ended = admin_db.reset_password(get_db(), user_id, body["password"],
                                    actor_id=current_actor().user_id)
    disconnect_sockets(*[f"session:{sid}" for sid in ended])
    if user_id == current_actor().user_id:
        session.clear()  # the admin's own session ended with the others
    return ""


@bp.post("/devices/<id:device_id>/revoke")
@requires("admin")
@bp.output(DeviceOut)
@bp.doc(summary="Revoke a device's token", responses={**ADMIN_ERRORS, 404: "Unknown device"})
def revoke_device(device_id):
    device = admin_db.revoke_device(get_db(), device_id, actor_id=current_actor().user_id)
    disconnect_sockets(f"device:{device_id}")
    return device


@bp.get("/audit")
@requires("admin")
@bp.input(AuditQuery, location="query", arg_name="query")
@bp.output(AuditOut(many=True))
@bp.doc(summary="Who did what, newest first", responses=ADMIN_ERRORS)
def list_audit(query):
    return admin_db.list_audit(get_db(), query["limit"], query["before_id"])


@bp.post("/admin/qr")
@requires("admin")
@bp.input(QrIn, arg_name="body")
@bp.output(FileSchema(type="string", format="binary"), content_type="image/svg+xml",
           description="The QR code as SVG")
@bp.doc(summary="A QR code (SVG) of a text, e.g. a device's pairing link; POST keeps it out of logs",
        responses={**ADMIN_ERRORS, 400: "Text that cannot be encoded"})
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
