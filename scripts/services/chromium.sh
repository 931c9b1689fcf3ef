#!/usr/bin/env bash
# Installs headless Chromium (Debian's chromium), with which `aimm assess --report DIR --pdf` prints the
# assessment report to PDF and the report tests render it, and pdftotext (poppler-utils), with
# which they read the PDF back. Source it (`. scripts/services/chromium.sh`); idempotent:
# nothing happens when both are there.

. "$(dirname "${BASH_SOURCE[0]}")/install.sh"

aimm_install_if_missing /usr/bin/chromium chromium
aimm_install_if_missing /usr/bin/pdftotext poppler-utils
