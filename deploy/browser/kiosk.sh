#!/bin/sh
# The kiosk touchscreen: Debian's Chromium full screen in kiosk mode, started by
# the kiosk user's session (e.g. ~/.config/autostart or a systemd user unit).
# Open the pairing link once (from the admin pages, Devices); the kiosk remembers it.
SERVER=${GILIRAN_SERVER:-http://10.0.0.5}
exec chromium \
  --kiosk "$SERVER/kiosk" \
  --noerrdialogs --disable-infobars --no-first-run --disable-translate \
  --disable-session-crashed-bubble --disable-features=TranslateUI \
  --overscroll-history-navigation=0 --disable-pinch \
  --check-for-update-interval=31536000 \
  --autoplay-policy=no-user-gesture-required
