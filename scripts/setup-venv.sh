#!/usr/bin/env bash
# Creates .venv with flaskdesk (editable), both Linux window backends and the dev tools.
# Usage: scripts/setup-venv.sh   (idempotent: re-running only installs what changed)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[qt,gtk,dev,docs]' -e 'examples/notes[test]'
