#!/usr/bin/env bash
# Sourced by scripts/test: installs OR-Tools (PyPI) for the CP-SAT peer that `aimm bench
# schedule` and its test run side by side with aimm's scheduler
# (crates/aimm-bench/peers/cpsat_schedule.py), unless Python already has it.
. "$(dirname "${BASH_SOURCE[0]}")/install.sh"

aimm_ortools() {
    aimm_install_if_missing /usr/bin/pip3 python3-pip || return 1
    python3 -c 'import ortools' 2>/dev/null ||
        python3 -m pip install --quiet ortools 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages ortools || {
        echo "could not install ortools: python3 -m pip install ortools, and run again" >&2
        return 1
    }
}

aimm_ortools
