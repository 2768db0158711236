#!/usr/bin/env bash
# Set up and run the whole test suite (unit, API, concurrency, server, browser, printer).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
