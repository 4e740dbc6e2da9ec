#!/usr/bin/env bash
# Render an mdlbench HTML leaderboard in headless Chromium and save a PNG screenshot, to check
# that the self-contained page displays (tables and inline SVG plots) as a person would see it.
#   scripts/screenshot-html.sh results/leaderboard.html results/leaderboard.png
# Needs Debian's chromium (apt-get install chromium); no network is used.
set -euo pipefail
html=${1:-results/leaderboard.html}
png=${2:-${html%.html}.png}
[ -f "$html" ] || { echo "no such file: $html" >&2; exit 2; }
command -v chromium >/dev/null || { echo "chromium not installed (apt-get install chromium)" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1400,1800 \
  --screenshot="$(realpath -m "$png")" "file://$(realpath "$html")" 2>/dev/null
echo "wrote $png"
