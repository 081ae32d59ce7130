#!/usr/bin/env bash
# One command: all set-up (system packages, venv), then lint, type-check and the whole test suite,
# real-window, real-freeze and real-installer tests included (they start their own Xvfb).
# Usage: scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/setup-venv.sh
echo "== ruff"; .venv/bin/ruff check src tests benchmarks examples
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
.venv/bin/python -m pytest "$@"
echo "== pytest: examples/notes (its own suite, on the flaskdesk pytest plugin)"
(cd examples/notes && ../../.venv/bin/python -m pytest -q -p no:cacheprovider)
