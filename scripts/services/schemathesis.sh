#!/usr/bin/env bash
# Sourced by scripts/test: installs schemathesis (PyPI), which the web server's test runs over
# its OpenAPI document to find requests that make it fail (crates/aimm-server/tests/openapi_fuzz.rs),
# unless it is already installed at the pinned version.
. "$(dirname "${BASH_SOURCE[0]}")/install.sh"

AIMM_SCHEMATHESIS_VERSION=4.32.5

aimm_schemathesis() {
    aimm_install_if_missing /usr/bin/pip3 python3-pip || return 1
    if schemathesis --version 2>/dev/null | grep -q "$AIMM_SCHEMATHESIS_VERSION"; then
        return 0
    fi
    python3 -m pip install --quiet "schemathesis==$AIMM_SCHEMATHESIS_VERSION" 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages "schemathesis==$AIMM_SCHEMATHESIS_VERSION" || {
        echo "could not install schemathesis: python3 -m pip install schemathesis==$AIMM_SCHEMATHESIS_VERSION, and run again" >&2
        return 1
    }
}

aimm_schemathesis
