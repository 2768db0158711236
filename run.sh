#!/usr/bin/env bash
# Set up and start Giliran with the demo MPP on instance/mpp.db (port 8000).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
export MPP_DEMO=${MPP_DEMO:-1}
.venv/bin/flask --app wsgi demo-links
exec .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app
