#!/usr/bin/env bash
# What the export tests need besides Python packages: pdflatex with amsmath, booktabs, TikZ (texlive-pictures)
# and T1 Latin Modern (TeX Live base + recommended, lmodern) for ASCII documents;
# LuaLaTeX (texlive-luatex: luaotfload; fontspec and babel's Persian come with the
# two above) with the OpenType Latin Modern and DejaVu fonts for any other text,
# Persian right to left; poppler-utils (pdftoppm, pdftotext); headless Chromium and
# a MathML font; and KaTeX (npm, into tests/js/node_modules).
# Idempotent: installs only what is missing. Called from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(texlive-latex-base texlive-latex-recommended texlive-pictures lmodern texlive-luatex fonts-lmodern fonts-dejavu-core
          poppler-utils chromium)
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
