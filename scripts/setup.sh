#!/usr/bin/env bash
# Installs what Giliran needs on Debian: system packages (once) and the
# Python virtualenv in .venv (again only when requirements.txt changes).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
# espeak-ng and sox make the default voice pack; chromium runs the browser
# tests; fonts-dejavu-core draws the print preview; wrk drives bench/issue_load.py;
# valgrind counts the instructions per ticket of bench/instructions.py;
# redis-server carries events between building instances (MPP_MESSAGE_QUEUE) and
# nginx fronts the public instance (deploy/nginx): both are also started by tests.
APT_PACKAGES=(python3-venv python3-dev build-essential espeak-ng sox fonts-dejavu-core chromium wrk valgrind
              redis-server nginx)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=sudo; else
      echo "setup: run as root or install: apt-get install ${missing[*]}" >&2; exit 1
    fi
  fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  $PYTHON -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages from requirements.txt"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

# The Indonesian catalogs, compiled from the .po files kept in git.
for dir in */translations; do
  [ -d "$dir" ] || continue
  .venv/bin/pybabel compile -d "$dir" >/dev/null
done
