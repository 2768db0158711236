"""Strings the admin's webhooks page shows (both languages go to the page; the Indonesian
catalog is admin/translations)."""

from flask_babel import lazy_gettext as _l

WEBHOOK_MESSAGES = {
    "nav_webhooks": _l("Webhooks"),
    "wh_intro": _l("Tell other systems what happens: a WhatsApp gateway, MPP Digital. Each event "
                   "is sent signed and retried until the receiver answers."),
    "wh_new": _l("New webhook"), "wh_events": _l("Events"), "wh_secret": _l("Secret"),
    "wh_url_help": _l("http:// or https://. Not Giliran's own address and port, nor a link-local "
                      "or metadata address. A gateway on another port of this server or on the LAN "
                      "is fine."),
    "wh_secret_field_help": _l("The key of the signature (HMAC-SHA256). Leave empty and Giliran "
                               "makes a strong one."),
    "wh_secret_title": _l("The webhook's secret"),
    "wh_secret_help": _l("Copy it into the receiver now: it is shown only this once. The receiver "
                         "checks the X-Giliran-Signature header with it."),
    "wh_ok": _l("Working"), "wh_off": _l("Switched off"),
    "wh_paused": _l("Paused: failing for a day"), "wh_failing": _l("Failing since {since}"),
    "wh_pending": _l("Waiting to send"), "wh_show_deliveries": _l("Deliveries"),
    "wh_test": _l("Send a test"), "wh_test_sent": _l("A test delivery is on its way."),
    "wh_resume": _l("Resume"), "wh_switch_off": _l("Switch off"), "wh_switch_on": _l("Switch on"),
    "wh_deliveries": _l("Recent deliveries to {url}"), "wh_refresh": _l("Refresh"),
    "wh_event": _l("Event"), "wh_attempts": _l("Tries"), "wh_last_error": _l("Last error"),
    "wh_response": _l("Answer"), "wh_created": _l("Created"), "wh_redeliver": _l("Send again"),
    "wh_queued": _l("It will be sent again now."),
    "wd_delivered": _l("Delivered"), "wd_sending": _l("Sending"), "wd_pending": _l("Waiting"),
    "wd_retrying": _l("Retrying"),
    "wh_settings": _l("Notification timing"),
    "wh_near_ahead": _l("ticket.near: tickets ahead"),
    "wh_near_help": _l("Sent once, when a booked ticket has this many tickets ahead."),
    "wh_reminder_minutes": _l("booking.reminder: minutes before the slot"),
    "wh_reminder_help": _l("Sent once to each booking, this long before its time slot."),
    "err_invalid_url": _l("This URL may not receive webhooks: only http(s), not Giliran's own "
                          "address and port, not a link-local or metadata address."),
    "err_webhook_paused": _l("This webhook is paused; resume it first."),
    "err_webhook_inactive": _l("This webhook is switched off."),
    "ev_ticket_issued": _l("a ticket is taken"), "ev_ticket_called": _l("a ticket is called (or called again)"),
    "ev_ticket_done": _l("a service is finished"),
    "ev_ticket_near": _l("a booked ticket is almost up"),
    "ev_booking_created": _l("a booking is made"), "ev_booking_cancelled": _l("a booking is cancelled"),
    "ev_booking_checked_in": _l("a booking is checked in at the kiosk"),
    "ev_booking_missed": _l("a booking was missed"),
    "ev_booking_reminder": _l("reminder before the slot"),
}
