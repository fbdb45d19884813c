# Shared by compare.sh and gc.sh (sourced, not run): ports, starting and stopping Skylark, a self-signed certificate,
# reading RESULT lines. Expects WORK, SKYLARK_JAR, SKYLARK_JAVA_OPTS, SKYLARK_ARGS, WS_PATH, BROKER_PID (and TLS_DIR
# for TLS listeners).
# shellcheck shell=bash

PORT_TIMEOUT_S="${PORT_TIMEOUT_S:-20}"

log() { printf '[%s] %s\n' "${LOG_TAG:-perf}" "$*" >&2; }

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port nobody listens on, below the kernel's ephemeral range: ports in that range are handed to outgoing
# connections (the load generator's, other programs'), and a listener cannot bind one that such a socket holds.
free_port() {
    local low high port tries
    read -r low high < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { low=32768; high=60999; }
    if ((low > 12000)); then
        high=$((low - 1)); low=10000
    else
        low=$((high + 1)); high=65535   # an unusual range that starts low: use the ports above it
    fi
    for tries in $(seq 1 100); do
        port=$((low + RANDOM % (high - low + 1)))
        if ! port_open "$port"; then
            echo "$port"
            return 0
        fi
    done
    log "no free port found"
    return 1
}

# wait_port <port> <pid> <name>: poll until the port accepts connections, the process dies, or the deadline passes.
wait_port() {
    local port="$1" pid="$2" name="$3"
    local deadline=$((SECONDS + PORT_TIMEOUT_S))
    until port_open "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true   # reaped: its log is complete
            log "$name exited before listening on port $port; the end of its log:"
            tail -n 30 "$WORK/$name.log" >&2 || true
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "$name did not listen on port $port within ${PORT_TIMEOUT_S}s"
            return 1
        fi
        sleep 0.05
    done
}

stop_broker() {
    if [[ -n "${BROKER_PID:-}" ]] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        local deadline=$((SECONDS + 10))
        while kill -0 "$BROKER_PID" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.1
        done
        kill -KILL "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    BROKER_PID=""
}

# make_certificate <dir>: a self-signed certificate for localhost and 127.0.0.1 (cert.pem, key.pem), with Skylark's
# own command, or openssl when the broker jar is missing. The key is made world-readable: mosquitto started as root
# reads it after dropping to its own user. Only for throw-away benchmark directories.
make_certificate() {
    local dir="$1"
    [[ -s "$dir/cert.pem" && -s "$dir/key.pem" ]] && return 0
    mkdir -p "$dir"
    if [[ -f "$SKYLARK_JAR" ]]; then
        java -jar "$SKYLARK_JAR" cert self-signed --host localhost --host 127.0.0.1 --days 2 --out "$dir" > "$dir/cert.log" 2>&1 ||
            { log "certificate: skylark cert self-signed failed:"; cat "$dir/cert.log" >&2; return 1; }
    elif command -v openssl > /dev/null; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" \
            > "$dir/cert.log" 2>&1 || { log "certificate: openssl failed:"; cat "$dir/cert.log" >&2; return 1; }
    else
        log "certificate: neither $SKYLARK_JAR nor openssl is available"
        return 1
    fi
    # skylark cert writes owner-only files in an owner-only directory (issue #15); these are throw-away.
    chmod 755 "$dir"
    chmod 644 "$dir/key.pem" "$dir/cert.pem"
}

# start_skylark <mqtt port> [<kind> <port>]: kind ws (HTTP + WebSocket), tls (MQTT/TLS) or wss (HTTPS + secure
# WebSocket) adds that listener on the second port; TLS listeners use $TLS_DIR. SKYLARK_JAVA_OPTS go to the JVM.
start_skylark() {
    local port="$1" kind="${2:-}" extra="${3:-}" listeners=()
    case "$kind" in
        "") listeners=(-Dskylark.http.port=0) ;;
        ws) listeners=(-Dskylark.http.port="$extra") ;;
        tls) listeners=(-Dskylark.http.port=0 -Dskylark.mqtts.port="$extra" -Dskylark.https.port=-1) ;;
        wss) listeners=(-Dskylark.http.port=0 -Dskylark.mqtts.port=-1 -Dskylark.https.port="$extra") ;;
        *) log "unknown listener kind: $kind"; return 1 ;;
    esac
    if [[ "$kind" == tls || "$kind" == wss ]]; then
        listeners+=(-Dskylark.tls.cert="$TLS_DIR/cert.pem" -Dskylark.tls.key="$TLS_DIR/key.pem")
    fi
    # A fresh data directory per run: a persistent session an earlier run left (PERSISTENT_SUBSCRIBERS=1 with MQTT
    # 3.1.1 cannot end its session) would otherwise come back from the journal and queue this run's messages too.
    rm -rf "$WORK/skylark-data"
    mkdir -p "$WORK/skylark-data"
    # the same queue depth and in-flight window as compare.sh's Mosquitto config; SKYLARK_ALIGN=0: Skylark's own
    # defaults (what a user who tunes nothing gets, issue #21)
    local align=(-Dskylark.queue.max.messages=1000000 -Dskylark.inflight.max=100)
    [[ "${SKYLARK_ALIGN:-1}" == 0 ]] && align=()
    # shellcheck disable=SC2086
    java ${SKYLARK_JAVA_OPTS:-} -Dskylark.mqtt.port="$port" "${listeners[@]}" -Dskylark.auth.mode=none \
        -Dskylark.ws.path="$WS_PATH" "${align[@]}" \
        -Dskylark.data.dir="$WORK/skylark-data" -jar "$SKYLARK_JAR" ${SKYLARK_ARGS:-} > "$WORK/skylark.log" 2>&1 &
    BROKER_PID=$!
    wait_port "$port" "$BROKER_PID" skylark || return 1
    [[ -z "$extra" ]] || wait_port "$extra" "$BROKER_PID" skylark
}

field() { # field <RESULT line> <key>
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< " $1"
}

# --- skylark-cluster3: three Skylark nodes on this machine (docs/cluster.md), one JVM each ---------------------------
# start_skylark_cluster3 <mqtt port of node 0>: nodes 0, 1, 2 from $SKYLARK_JAR, each with its own free MQTT and HTTP
# port, its own data directory under $WORK (fresh every start: no Raft log from a previous run), the same members
# list (UDP base ports 10 apart, every one of the 30 ports checked unused), the compare.sh alignment settings and
# $SKYLARK_JAVA_OPTS / $SKYLARK_CLUSTER_JAVA_OPTS / $SKYLARK_ARGS. Waits until every node's /metrics shows a leader
# and 3 live nodes (CLUSTER_TIMEOUT_S, default 90). Sets CLUSTER_PIDS, CLUSTER_MQTT_PORTS, CLUSTER_HTTP_PORTS and
# BROKER_PID (node 0).
CLUSTER_PIDS=()
CLUSTER_MQTT_PORTS=()
CLUSTER_HTTP_PORTS=()

# udp_tcp_ports_free <first> <count>: no TCP or UDP socket of this machine uses a port in [first, first + count)
udp_tcp_ports_free() {
    local first="$1" count="$2"
    ! ss -Htuan 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' |
        awk -v lo="$first" -v hi="$((first + count))" '$1 >= lo && $1 < hi { found = 1 } END { exit !found }'
}

start_skylark_cluster3() {
    local port0="$1" base="" tries i members align=(-Dskylark.queue.max.messages=1000000 -Dskylark.inflight.max=100)
    [[ "${SKYLARK_ALIGN:-1}" == 0 ]] && align=()
    for tries in $(seq 1 50); do
        base="$(free_port)" || return 1
        ((base + 30 < 65536)) && udp_tcp_ports_free "$base" 30 && break
        base=""
    done
    [[ -n "$base" ]] || { log "no 30 free ports in a row for the cluster members"; return 1; }
    members="0=127.0.0.1:$base,1=127.0.0.1:$((base + 10)),2=127.0.0.1:$((base + 20))"
    CLUSTER_PIDS=()
    CLUSTER_MQTT_PORTS=("$port0")
    CLUSTER_HTTP_PORTS=()
    for i in 0 1 2; do
        ((i == 0)) || CLUSTER_MQTT_PORTS+=("$(free_port)")
        CLUSTER_HTTP_PORTS+=("$(free_port)")
        rm -rf "$WORK/cluster-data-$i"
        mkdir -p "$WORK/cluster-data-$i"
        # shellcheck disable=SC2086
        java ${SKYLARK_JAVA_OPTS:-} ${SKYLARK_CLUSTER_JAVA_OPTS:-} -Dskylark.mqtt.port="${CLUSTER_MQTT_PORTS[$i]}" \
            -Dskylark.http.port="${CLUSTER_HTTP_PORTS[$i]}" -Dskylark.auth.mode=none "${align[@]}" \
            -Dskylark.data.dir="$WORK/cluster-data-$i" -Dskylark.cluster.node.id="$i" \
            -Dskylark.cluster.members="$members" -jar "$SKYLARK_JAR" ${SKYLARK_ARGS:-} \
            > "$WORK/skylark-node$i.log" 2>&1 &
        CLUSTER_PIDS+=($!)
    done
    BROKER_PID="${CLUSTER_PIDS[0]}"
    for i in 0 1 2; do
        wait_port "${CLUSTER_MQTT_PORTS[$i]}" "${CLUSTER_PIDS[$i]}" "skylark-node$i" || return 1
    done
    wait_cluster_ready
}

# wait_cluster_ready: every node's /metrics reports a leader (skylark_cluster_leader >= 0) and 3 live nodes
wait_cluster_ready() {
    local deadline=$((SECONDS + ${CLUSTER_TIMEOUT_S:-90})) i ready metrics
    while true; do
        ready=0
        for i in 0 1 2; do
            kill -0 "${CLUSTER_PIDS[$i]}" 2>/dev/null ||
                { log "skylark-node$i exited; the end of its log:"; tail -n 30 "$WORK/skylark-node$i.log" >&2; return 1; }
            metrics="$(curl -sf --max-time 2 "http://127.0.0.1:${CLUSTER_HTTP_PORTS[$i]}/metrics" 2>/dev/null || true)"
            awk '$1 == "skylark_cluster_leader" && $2 >= 0 { l = 1 } $1 == "skylark_cluster_live_nodes" && $2 == 3 { n = 1 }
                END { exit !(l && n) }' <<< "$metrics" && ready=$((ready + 1))
        done
        ((ready == 3)) && return 0
        if ((SECONDS >= deadline)); then
            log "the cluster had no leader and 3 live nodes on every node within ${CLUSTER_TIMEOUT_S:-90}s"
            return 1
        fi
        sleep 0.2
    done
}

# cluster_ack_supported: whether $SKYLARK_JAR knows skylark.cluster.ack (issue #19; an older build refuses the
# setting and would not start). Asked once per jar.
CLUSTER_ACK_SUPPORTED=""
cluster_ack_supported() {
    if [[ -z "$CLUSTER_ACK_SUPPORTED" ]]; then
        if java -jar "$SKYLARK_JAR" config --example 2>/dev/null | grep -q '^#*cluster\.ack='; then
            CLUSTER_ACK_SUPPORTED=yes
        else
            CLUSTER_ACK_SUPPORTED=no
        fi
    fi
    [[ "$CLUSTER_ACK_SUPPORTED" == yes ]]
}

# start_skylark_cluster3_ack <local|replica> <mqtt port of node 0>: skylark-cluster3 with skylark.cluster.ack set on
# every node (brokers skylark-cluster3-local, skylark-cluster3-replica). A build without the setting runs with its
# own default instead (logged, and marked in the report), so the scripts work before issue #19 is merged.
start_skylark_cluster3_ack() {
    local mode="$1"
    shift
    if cluster_ack_supported; then
        SKYLARK_CLUSTER_JAVA_OPTS="${SKYLARK_CLUSTER_JAVA_OPTS:-} -Dskylark.cluster.ack=$mode" start_skylark_cluster3 "$@"
    else
        log "$SKYLARK_JAR has no skylark.cluster.ack: skylark-cluster3-$mode runs with the build's default"
        start_skylark_cluster3 "$@"
    fi
}

# stop_skylark_cluster3: SIGTERM to the three nodes at once, SIGKILL after 10 s; their data directories removed
stop_skylark_cluster3() {
    local pid deadline=$((SECONDS + 10)) i
    ((${#CLUSTER_PIDS[@]} > 0)) || return 0   # no cluster running: BROKER_PID (a single broker) is left alone
    for pid in "${CLUSTER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${CLUSTER_PIDS[@]}"; do
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for i in 0 1 2; do
        rm -rf "$WORK/cluster-data-$i"
    done
    CLUSTER_PIDS=()
    BROKER_PID=""
}

# cpu_ticks <pid>...: user + system clock ticks of these processes together (-1 when one cannot be read)
cpu_ticks() {
    local pid sum=0 stat rest
    for pid in "$@"; do
        stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || { echo -1; return 0; }
        rest="${stat##*) }"   # after the command name, which may hold spaces
        # fields from state (3): utime is the 14th overall = the 12th here, stime the 13th
        sum=$((sum + $(awk '{ print $12 + $13 }' <<< "$rest")))
    done
    echo "$sum"
}

# idle_cores <seconds> <pid>...: the cores these processes used together over the next <seconds> (-1 when unknown)
idle_cores() {
    local seconds="$1" before after hz
    shift
    hz="$(getconf CLK_TCK 2>/dev/null || echo 100)"
    before="$(cpu_ticks "$@")"
    sleep "$seconds"
    after="$(cpu_ticks "$@")"
    awk -v b="$before" -v a="$after" -v s="$seconds" -v hz="$hz" \
        'BEGIN { if (b < 0 || a < 0) print -1; else printf "%.3f", (a - b) / hz / s }'
}
