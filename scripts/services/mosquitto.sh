#!/usr/bin/env bash
# Starts Debian's mosquitto on 127.0.0.1:18830 for the MQTT tests, with its own config and its
# persistence file under target/ (so a restarted broker still holds the sessions and queued
# messages of a persistent host). Idempotent: reuses a broker already listening there.
# Source it (`. scripts/services/mosquitto.sh`) to get AIMM_TEST_MQTT_URL exported; run it to
# just start the broker. `scripts/services/mosquitto.sh stop` stops the one it started.
set -euo pipefail
port=18830
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/mosquitto"
mkdir -p "$dir"
conf="$dir/mosquitto.conf"
cat >"$conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
# Run as whoever starts it (as root, mosquitto would switch to a user that cannot write here).
user $(id -un)
persistence true
persistence_location $dir/
autosave_interval 1
# A Sparkplug host acknowledges a message only once its samples are sealed (about a second):
# no limit on unacknowledged messages in flight to it, nor on those queued for it.
max_inflight_messages 0
max_queued_messages 0
log_dest file $dir/mosquitto.log
pid_file $dir/mosquitto.pid
CONF

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if [[ "${1:-}" == stop ]]; then
    [[ -f "$dir/mosquitto.pid" ]] && kill "$(cat "$dir/mosquitto.pid")" 2>/dev/null || true
    exit 0
fi

if ! listening; then
    mosquitto_bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
    if [[ ! -x "$mosquitto_bin" ]]; then
        echo "mosquitto not installed: apt-get install mosquitto (see .ci/run)" >&2
        exit 1
    fi
    "$mosquitto_bin" -c "$conf" -d
    for _ in $(seq 50); do listening && break; sleep 0.1; done
    listening || { echo "mosquitto did not start; see $dir/mosquitto.log" >&2; exit 1; }
fi
export AIMM_TEST_MQTT_URL="mqtt://127.0.0.1:$port"
# Tests restart the broker with the same command line.
export AIMM_TEST_MQTT_CONF="$conf"
