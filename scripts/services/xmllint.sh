#!/usr/bin/env bash
# Installs xmllint (Debian's libxml2-utils), with which the MTConnect tests validate aimm's agent
# documents against the MTConnect 2.7 XSDs. Source it (`. scripts/services/xmllint.sh`);
# idempotent: nothing happens when xmllint is there.

. "$(dirname "${BASH_SOURCE[0]}")/install.sh"

aimm_install_if_missing /usr/bin/xmllint libxml2-utils
