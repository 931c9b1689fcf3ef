#!/usr/bin/env bash
# Installs playwright-core (npm, the exact version of crates/aimm-server/e2e/package-lock.json)
# for the dashboard's end-to-end tests, which drive Debian's Chromium (scripts/services/chromium.sh
# installs it, and so does this script when it is missing) with it: playwright-core downloads no
# browser of its own. Exports AIMM_E2E_DIR (that e2e folder, absolute) and AIMM_CHROMIUM (the
# chromium binary; one already set is kept).
# Source it (`. scripts/services/playwright.sh`); idempotent: `npm ci` runs only when
# node_modules is missing or was installed from another lock file.

. "$(dirname "${BASH_SOURCE[0]}")/install.sh"

aimm_playwright() {
    local dir
    dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../crates/aimm-server/e2e" && pwd) || return 1
    export AIMM_E2E_DIR=$dir
    if [ -z "${AIMM_CHROMIUM:-}" ]; then
        aimm_install_if_missing /usr/bin/chromium chromium || return 1
        AIMM_CHROMIUM=/usr/bin/chromium
    fi
    export AIMM_CHROMIUM
    if ! command -v npm >/dev/null; then
        echo "npm is missing: the end-to-end tests need node and npm (Debian: apt-get install npm), then run again" >&2
        return 1
    fi
    # A copy of the lock file that node_modules was installed from: when the committed lock
    # file changes (a new playwright-core), the next run reinstalls.
    local stamp=$dir/node_modules/.aimm-installed-lock.json
    if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json" &&
        [ -d "$dir/node_modules/playwright-core" ]; then
        return 0 # installed from this lock file: reuse it
    fi
    echo "installing playwright-core (npm ci in $dir)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
        echo "could not install playwright-core: run npm ci in $dir and run again" >&2
        return 1
    }
    cp "$dir/package-lock.json" "$stamp"
}

aimm_playwright
