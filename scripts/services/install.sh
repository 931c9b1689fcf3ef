#!/usr/bin/env bash
# Sourced by the service scripts: `aimm_install_if_missing PATH PACKAGE...` installs Debian's
# PACKAGEs when PATH does not exist, so `scripts/test` sets up a fresh Debian machine by itself
# (as root, or through sudo). Package lists are refreshed only when the first attempt fails.

aimm_install_if_missing() {
    local path=$1
    shift
    [ -e "$path" ] && return 0
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        sudo=(sudo)
    fi
    echo "installing $* (for $path)" >&2
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
    "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null ||
        { "${apt[@]}" update >/dev/null && "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null; } || {
        echo "could not install $*: install it (Debian: apt-get install $*) and run again" >&2
        return 1
    }
}
