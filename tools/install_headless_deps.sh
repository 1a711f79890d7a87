#!/usr/bin/env bash
# Install what headless rendering needs on Debian/Ubuntu: Xvfb, and the xcb and GL
# libraries that Qt's xcb platform plugin and VTK load, and xdotool, with which the GUI
# tests press keys as the X server delivers them. Does nothing when a display is
# available or everything is installed already.
set -euo pipefail

packages=(
  xvfb xauth
  libgl1 libegl1 libglx-mesa0 libgl1-mesa-dri
  libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xfixes0 libxcb-xkb1
  xdotool
)

if [ -n "${DISPLAY:-}" ]; then
  exit 0
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
  command -v xvfb-run >/dev/null 2>&1 && exit 0
  echo "install_headless_deps: no display and no dpkg; install Xvfb (xvfb-run) yourself" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install_headless_deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
