#!/usr/bin/env bash
# Refresh one surface's Indonesian catalog after changing its strings:
#   scripts/i18n.sh kiosk      (then translate the new entries in kiosk/translations/id/LC_MESSAGES/messages.po)
set -euo pipefail
cd "$(dirname "$0")/.."
surface=${1:?usage: scripts/i18n.sh SURFACE}
pot=$(mktemp)
.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 -o "$pot" "$surface" >/dev/null
po="$surface/translations/id/LC_MESSAGES/messages.po"
if [ -f "$po" ]; then
  .venv/bin/pybabel update -i "$pot" -d "$surface/translations" -l id --no-fuzzy-matching
else
  .venv/bin/pybabel init -i "$pot" -d "$surface/translations" -l id
fi
rm -f "$pot"
.venv/bin/pybabel compile -d "$surface/translations" --statistics
