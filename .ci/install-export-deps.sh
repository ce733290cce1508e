#!/usr/bin/env bash
# What the export tests need besides Python packages: pdflatex with amsmath and
# booktabs (TeX Live base + recommended), poppler-utils (pdftoppm), headless
# Chromium and a MathML font, and KaTeX (npm, into tests/js/node_modules).
# Idempotent: installs only what is missing. Called from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(texlive-latex-base texlive-latex-recommended poppler-utils chromium fonts-lmodern fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f tests/js/node_modules/katex/package.json ]; then
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi
