#!/usr/bin/env bash
# Refresh the committed screenshots in docs/screenshots from the browser tests.
# The normal test run writes its screenshots to a scratch folder instead.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
GILIRAN_SCREENSHOTS=docs exec .venv/bin/python -m pytest -m browser "$@"
