#!/usr/bin/env bash
# Starts Debian's mosquitto for the MQTT tests: one broker process with three listeners on
# loopback, and exports where they are.
#   - 127.0.0.1:18830 plain MQTT, anonymous: AIMM_TEST_MQTT_URL;
#   - 127.0.0.1:18883 MQTT over TLS with username and password, client certificate optional
#     (not requested): AIMM_TEST_MQTTS_URL;
#   - 127.0.0.1:18884 MQTT over TLS with username and password and a client certificate
#     required: AIMM_TEST_MQTTS_CERT_URL.
# The TLS listeners use a throwaway CA, server and client certificate (openssl, EC P-256) and a
# mosquitto_passwd file, made once in the broker's directory, never in the checkout:
# AIMM_TEST_MQTT_CA, AIMM_TEST_MQTT_USER, AIMM_TEST_MQTT_PASSWORD_FILE, AIMM_TEST_MQTT_CLIENT_CERT,
# AIMM_TEST_MQTT_CLIENT_KEY. AIMM_TEST_MQTT_CONF is the config, with which the broker-restart test
# starts the broker again.
#
# Source it (`. scripts/services/mosquitto.sh`): idempotent, it reuses a broker already listening
# on all three ports (one listening on the plain port only, started by an older version of this
# script, is stopped and started again with this config). Own config and persistence file under
# /tmp/aimm-mosquitto-18830, so a restarted broker still holds the sessions and queued messages of
# a persistent host. Also installs pysparkplug, the third-party Sparkplug B decoder the tests
# check aimm's payloads with.
# `bash scripts/services/mosquitto.sh stop` stops the broker it started.

. "$(dirname "${BASH_SOURCE[0]}")/install.sh"

aimm_mosquitto_dir() {
    # Outside the checkout, like PostgreSQL's data: whichever checkout started the broker, every
    # other one finds its config, pid file and certificates (the broker-restart test needs them).
    echo "${TMPDIR:-/tmp}/aimm-mosquitto-18830"
}

# The throwaway CA, server and client certificates and the password file, made once.
aimm_mosquitto_secrets() {
    local dir=$1
    local pki=$dir/pki
    [[ -f "$pki/done" ]] && return 0
    mkdir -p "$pki" && chmod 700 "$pki" || return 1
    (
        set -e
        cd "$pki"
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
        key ca.key
        openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=aimm test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt 2>/dev/null
        # sign NAME SUBJECT EXTENSIONS: NAME.key and NAME.crt signed by the CA.
        sign() {
            key "$1.key"
            openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
            printf '%s\n' "$3" >"$1.ext"
            openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
                -extfile "$1.ext" -out "$1.crt" 2>/dev/null
        }
        sign server "/CN=localhost" \
            "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
        sign client "/CN=aimm-test-client" "extendedKeyUsage=clientAuth"
        openssl rand -hex 16 >password.txt
        mosquitto_passwd -b -c passwd aimm-test "$(cat password.txt)"
        rm -f ./*.csr ./*.ext ca.srl
        chmod 600 ./*.key password.txt passwd
        touch done
    )
}

aimm_mosquitto_start() {
    local port=18830 tls_port=18883 cert_port=18884
    local dir
    dir=$(aimm_mosquitto_dir)
    mkdir -p "$dir"
    local conf="$dir/mosquitto.conf" pki="$dir/pki"
    export AIMM_TEST_MQTT_URL="mqtt://127.0.0.1:$port"
    export AIMM_TEST_MQTTS_URL="mqtts://127.0.0.1:$tls_port"
    export AIMM_TEST_MQTTS_CERT_URL="mqtts://127.0.0.1:$cert_port"
    export AIMM_TEST_MQTT_CONF="$conf"
    export AIMM_TEST_MQTT_CA="$pki/ca.crt"
    export AIMM_TEST_MQTT_USER=aimm-test
    export AIMM_TEST_MQTT_PASSWORD_FILE="$pki/password.txt"
    export AIMM_TEST_MQTT_CLIENT_CERT="$pki/client.crt"
    export AIMM_TEST_MQTT_CLIENT_KEY="$pki/client.key"
    aimm_install_if_missing /usr/sbin/mosquitto mosquitto || return 1
    aimm_install_if_missing /usr/bin/openssl openssl || return 1
    aimm_install_if_missing /usr/bin/pip3 python3-pip || return 1
    python3 -c 'import pysparkplug' 2>/dev/null ||
        python3 -m pip install --quiet pysparkplug 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages pysparkplug || return 1
    aimm_mosquitto_secrets "$dir" || {
        echo "could not make the test CA and password file in $pki" >&2
        return 1
    }
    cat >"$conf" <<CONF
# Authentication per listener: the plain one stays anonymous, the TLS ones take a password.
per_listener_settings true

listener $port 127.0.0.1
allow_anonymous true

listener $tls_port 127.0.0.1
allow_anonymous false
password_file $pki/passwd
cafile $pki/ca.crt
certfile $pki/server.crt
keyfile $pki/server.key
require_certificate false

listener $cert_port 127.0.0.1
allow_anonymous false
password_file $pki/passwd
cafile $pki/ca.crt
certfile $pki/server.crt
keyfile $pki/server.key
require_certificate true

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
    if aimm_mosquitto_listening "$port" && aimm_mosquitto_listening "$tls_port" &&
        aimm_mosquitto_listening "$cert_port"; then
        return 0 # already running: reuse it
    fi
    if aimm_mosquitto_listening "$port"; then
        aimm_mosquitto_stop || return 1
    fi
    /usr/sbin/mosquitto -c "$conf" -d || return 1
    local _
    for _ in $(seq 50); do
        aimm_mosquitto_listening "$port" && aimm_mosquitto_listening "$tls_port" &&
            aimm_mosquitto_listening "$cert_port" && return 0
        sleep 0.1
    done
    echo "mosquitto did not start on ports $port, $tls_port and $cert_port; see $dir/mosquitto.log" >&2
    return 1
}

aimm_mosquitto_listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Stops the broker of the pid file, if that pid is a mosquitto (a stale pid file may name a
# process that has since taken the number), and waits for it to exit.
aimm_mosquitto_stop() {
    local pid_file pid _
    pid_file="$(aimm_mosquitto_dir)/mosquitto.pid"
    [[ -f "$pid_file" ]] || {
        echo "a broker listens on 18830 but $pid_file is missing: stop it by hand" >&2
        return 1
    }
    pid=$(cat "$pid_file")
    if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != mosquitto ]]; then
        echo "$pid_file names process $pid, which is no mosquitto: stop the broker by hand" >&2
        return 1
    fi
    kill "$pid" || return 1
    for _ in $(seq 100); do
        # Gone, or a zombie its parent has not reaped.
        [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" =~ ^(Z|X|)$ ]] && return 0
        sleep 0.1
    done
    echo "mosquitto $pid did not stop within 10 s" >&2
    return 1
}

if [[ "${BASH_SOURCE[0]}" == "$0" && "${1:-}" == stop ]]; then
    aimm_mosquitto_stop
    exit
fi
aimm_mosquitto_start
