#!/usr/bin/env bash
# Starts Debian's mosquitto on 127.0.0.1:18830 for the MQTT tests and exports AIMM_TEST_MQTT_URL
# (and AIMM_TEST_MQTT_CONF, with which the broker-restart test starts it again). Source it
# (`. scripts/services/mosquitto.sh`): idempotent, it reuses a broker already listening on the
# port. Own config and persistence file under /tmp/aimm-mosquitto-18830, so a restarted broker still
# holds the sessions and queued messages of a persistent host. Also installs pysparkplug, the
# third-party Sparkplug B decoder the tests check aimm's payloads with.
# `bash scripts/services/mosquitto.sh stop` stops the broker it started.

. "$(dirname "${BASH_SOURCE[0]}")/install.sh"

aimm_mosquitto_start() {
    local port=18830
    # Outside the checkout, like PostgreSQL's data: whichever checkout started the broker, every
    # other one finds its config and pid file (the broker-restart test needs both).
    local dir=${TMPDIR:-/tmp}/aimm-mosquitto-$port
    mkdir -p "$dir"
    local conf="$dir/mosquitto.conf"
    export AIMM_TEST_MQTT_URL="mqtt://127.0.0.1:$port"
    export AIMM_TEST_MQTT_CONF="$conf"
    aimm_install_if_missing /usr/sbin/mosquitto mosquitto || return 1
    aimm_install_if_missing /usr/bin/pip3 python3-pip || return 1
    python3 -c 'import pysparkplug' 2>/dev/null ||
        python3 -m pip install --quiet pysparkplug 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages pysparkplug || return 1
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
# Small packets (a command, a sample) go out at once, not after the peer's delayed ACK.
set_tcp_nodelay true
log_dest file $dir/mosquitto.log
pid_file $dir/mosquitto.pid
CONF
    if aimm_mosquitto_listening "$port"; then
        return 0 # already running: reuse it
    fi
    /usr/sbin/mosquitto -c "$conf" -d || return 1
    local _
    for _ in $(seq 50); do
        aimm_mosquitto_listening "$port" && return 0
        sleep 0.1
    done
    echo "mosquitto did not start on port $port; see $dir/mosquitto.log" >&2
    return 1
}

aimm_mosquitto_listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if [[ "${BASH_SOURCE[0]}" == "$0" && "${1:-}" == stop ]]; then
    pid_file=${TMPDIR:-/tmp}/aimm-mosquitto-18830/mosquitto.pid
    [[ -f "$pid_file" ]] && kill "$(cat "$pid_file")" 2>/dev/null
    exit 0
fi
aimm_mosquitto_start
