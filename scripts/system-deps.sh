#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages flaskdesk's window backends, tests and packagers need.
# Usage: scripts/system-deps.sh        (as root; prints the sudo line otherwise)
set -euo pipefail

PACKAGES=(
  # a virtual display, screenshots and input for real-window tests
  xvfb xauth x11-utils imagemagick xdotool fonts-dejavu-core
  # tray icon and notification tests: an XEmbed tray, a notification server, a private session bus
  # (not dbus-x11: its autolaunch would start a session bus for every app the tests open)
  trayer dunst dbus-daemon dbus-bin
  # Qt WebEngine (PyQt6 / PySide6 from PyPI) runtime libraries
  libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-image0 libxkbcommon-x11-0 libnss3 libegl1 libgl1 libasound2 libxcomposite1
  libxdamage1 libxrandr2 libxtst6 libxkbfile1 libfontconfig1 libdbus-1-3
  # GTK backend: system WebKit2GTK 4.1 + what PyGObject needs to build against the pyenv/system Python
  gir1.2-webkit2-4.1 gir1.2-gtk-3.0 libgirepository1.0-dev libcairo2-dev pkg-config gobject-introspection
  # freezing and installers
  binutils dpkg-dev fakeroot rpm nsis wixl msitools desktop-file-utils squashfs-tools
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "flaskdesk needs these system packages. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
