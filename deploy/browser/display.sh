#!/bin/sh
# The lobby TV: Chromium full screen, sound allowed without a tap (the
# announcements), no mouse cursor needed. Pair once with the display link.
SERVER=${GILIRAN_SERVER:-http://10.0.0.5}
exec chromium \
  --kiosk "$SERVER/display" \
  --noerrdialogs --disable-infobars --no-first-run --disable-translate \
  --disable-session-crashed-bubble --disable-features=TranslateUI \
  --check-for-update-interval=31536000 \
  --autoplay-policy=no-user-gesture-required
