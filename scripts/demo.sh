#!/usr/bin/env bash
# One command: all set-up, then the main job on the example notes app:
#   1. show it in a desktop window from source;
#   2. build it into a standalone executable (`flaskdesk build --check` also drives every page);
#   3. start the built executable.
# With a display, each window stays until you close it. With none (or CI=true), it all runs under a
# private Xvfb, screenshots go to artifacts/demo-source.png and artifacts/demo-frozen.png, and each
# app is closed again with SIGTERM and must exit cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/system-deps.sh
bash scripts/setup-venv.sh
mkdir -p artifacts
cd examples/notes
FLASKDESK="$ROOT/.venv/bin/flaskdesk"
EXE="$PWD/dist/flaskdesk-notes/flaskdesk-notes"

have_display() { [ -n "${DISPLAY:-}" ] && xdpyinfo -display "$DISPLAY" >/dev/null 2>&1; }

if have_display && [ -z "${CI:-}" ]; then
  "$FLASKDESK" run --no-dev
  "$FLASKDESK" build --check
  exec "$EXE"
fi

XVFB_PID=""
if ! have_display; then
  export DISPLAY=":$((100 + RANDOM % 400))"
  Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp -noreset >/dev/null 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 100); do xdpyinfo -display "$DISPLAY" >/dev/null 2>&1 && break; sleep 0.1; done
fi
cleanup() { [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true; }
trap cleanup EXIT

# show_and_close NAME COMMAND...: start the app, wait for its window, screenshot, SIGTERM, expect 0.
show_and_close() {
  local name=$1; shift
  "$@" &
  local pid=$!
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { echo "$name: the app exited early" >&2; wait "$pid"; return 1; }
    xdotool search --onlyvisible --name "^Notes" >/dev/null 2>&1 && break
    sleep 0.1
  done
  sleep 3   # let the first page paint
  import -window root "$ROOT/artifacts/demo-$name.png"
  echo "$name: screenshot in artifacts/demo-$name.png"
  kill -TERM "$pid"
  wait "$pid"
  echo "$name: closed cleanly (exit status 0)"
}

echo "== 1. from source"
show_and_close source "$FLASKDESK" run --no-dev
echo "== 2. build (and --check: every page through the built app's real window)"
"$FLASKDESK" build --check
echo "== 3. the built executable"
show_and_close frozen "$EXE"
