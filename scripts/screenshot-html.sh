#!/usr/bin/env bash
# Render an mdlbench HTML report in headless Chromium and save a PNG screenshot of its first
# WIDTH x HEIGHT CSS pixels, to see the self-contained page (tables, inline SVG plots) as a
# visitor would: 1400 px for a desktop, 390 px for a phone (the page must not scroll sideways
# there; tests/test_browser.py checks that, and sorting, in the same browser).
#   scripts/screenshot-html.sh results/leaderboard.html results/screenshots/report-desktop.png
#   scripts/screenshot-html.sh results/leaderboard.html results/screenshots/report-390px.png 390 1500
# Needs Debian's chromium (apt-get install chromium); no network is used.
set -euo pipefail
html=${1:-results/leaderboard.html}
png=${2:-${html%.html}.png}
width=${3:-1400}
height=${4:-1800}
[ -f "$html" ] || { echo "no such file: $html" >&2; exit 2; }
command -v chromium >/dev/null || { echo "chromium not installed (apt-get install chromium)" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$png")"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size="$width,$height" \
  --screenshot="$(realpath -m "$png")" "file://$(realpath "$html")" 2>/dev/null
echo "wrote $png"
