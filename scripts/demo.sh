#!/usr/bin/env bash
# One command: all set-up, then the main job: show the example notes app in a desktop window.
# With no display it runs under a private Xvfb, saves a screenshot to artifacts/demo.png and closes
# the app again (checking it exits cleanly). With a display, the window stays until you close it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/system-deps.sh
bash scripts/setup-venv.sh
mkdir -p artifacts
cd examples/notes

have_display() { [ -n "${DISPLAY:-}" ] && xdpyinfo -display "$DISPLAY" >/dev/null 2>&1; }

if have_display && [ -z "${CI:-}" ]; then
  exec "$ROOT/.venv/bin/flaskdesk" run --no-dev
fi

XVFB_PID=""
if ! have_display; then
  export DISPLAY=":$((100 + RANDOM % 400))"
  Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 100); do xdpyinfo -display "$DISPLAY" >/dev/null 2>&1 && break; sleep 0.1; done
fi
cleanup() { [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true; }
trap cleanup EXIT

"$ROOT/.venv/bin/flaskdesk" run --no-dev &
APP_PID=$!
for _ in $(seq 300); do
  kill -0 "$APP_PID" 2>/dev/null || { echo "the app exited early" >&2; wait "$APP_PID"; exit 1; }
  xdotool search --onlyvisible --name "^Notes" >/dev/null 2>&1 && break
  sleep 0.1
done
sleep 3   # let the first page paint
import -window root "$ROOT/artifacts/demo.png"
echo "screenshot: artifacts/demo.png"
kill -TERM "$APP_PID"
wait "$APP_PID"
echo "the app closed cleanly (exit status 0)"
