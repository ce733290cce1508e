#!/usr/bin/env bash
# Regenerates the two pictures of docs/exports.md (and the README):
#   docs/relu-2-2-2-one-step.png      the HTML export in headless Chromium
#   docs/relu-2-2-2-one-step-key.png  page 1 of the answer key PDF (pdftoppm)
# Needs what .ci/install-export-deps.sh installs. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tutor() { .venv/bin/tutor "$@"; }
tutor export problems/relu-2-2-2-one-step.yaml -o "$tmp/relu.html"
tutor key problems/relu-2-2-2-one-step.yaml -o "$tmp/key.pdf"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$tmp/profile" \
    --screenshot="$tmp/relu.png" --window-size=900,1500 "file://$tmp/relu.html" 2>/dev/null
cp "$tmp/relu.png" docs/relu-2-2-2-one-step.png
pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$tmp/key.pdf" "$tmp/key"
cp "$tmp/key.png" docs/relu-2-2-2-one-step-key.png
