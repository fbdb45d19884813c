#!/usr/bin/env bash
# Runs the same scenarios (fan-in, fan-out, p2p, shared subscriptions, QoS 0/1/2, TLS and WebSocket, idle
# connections, QoS 1 ingest from 100/1,000 publishers, many slow devices) against a null relay (QoS 0 only: the 1.0),
# Mosquitto, HiveMQ CE and Skylark, in alternating rounds (ROUNDS: per scenario relay, mosquitto, hivemq, skylark,
# relay, ...), and prints a table of every figure (median and min..max over the rounds) plus Skylark's ratio to each
# other broker; also writes it to perf-scripts/results/<date>-<host>.md, with a latency-percentile plot of the paced
# runs (gnuplot) and, with the ws-vs-tcp scenario, Skylark's WebSocket/TCP throughput ratio.
#
# Environment (short defaults; see perf-scripts/README.md):
#   DURATION=5s WARMUP=3s TLS_WARMUP=6s PUBLISHERS=4 RATE=20000 PAYLOAD=64 INFLIGHT=16 MQTT_VERSION=3 THREADS=2
#   MANY_PUBLISHERS=100 SHARED_SUBSCRIBERS=4 FANOUT_SUBSCRIBERS=100 FANOUT_RATE=1000 FANOUT_LARGE_SUBSCRIBERS=1000
#   FANOUT_LARGE_RATE=100 P2P_PAIRS=4 CONNECTIONS=5000 CONNECTIONS_HOLD=3s SOURCE_ADDRESSES=4 MAX_OUTSTANDING=10000
#   WS_VS_TCP_ROUNDS=3 SCENARIOS="..." (or "all") REPORT=<file> SMOKE=0 WS_PATH=/mqtt
#   ROUNDS=3 (SMOKE: 1)  INGEST_SMALL=100 INGEST_LARGE=1000 INGEST_SHARED=4 SLOW_DEVICES=10000 SLOW_DEVICE_RATE=1
#   BROKERS="relay mosquitto hivemq skylark" (SMOKE: "mosquitto skylark"; skylark-<X> = Skylark with $SKYLARK_JAR_<X>)
#   HIVEMQ_JAR=perf-scripts/hivemq-launcher/target/hivemq-launcher.jar HIVEMQ_JAVA_OPTS="" HIVEMQ_MAX_QUEUE="" CC=cc
#   METRICS="..." (rows of the table)
#   SKIP_BUILD=0  MOSQUITTO=<path>  SKYLARK_JAR=broker/target/skylark.jar
#   SKYLARK_ARGS=""  (extra arguments after -jar; SKYLARK_ARGS_<X> for skylark-<X>)  SKYLARK_JAVA_OPTS=""  (broker JVM)
#   JAVA_OPTS=""  (load generator JVM)
#   LOADGEN_CP=benchmarks/target/benchmarks.jar  (class path of the load generator)
#   PERSISTENT_SUBSCRIBERS=0  (1: every scenario's subscribers connect as persistent sessions, --persistent-subscribers
#   of the load generator: MQTT 3.1.1 Clean Session 0, MQTT 5 Session Expiry 3600 s; Skylark journals a QoS 1/2
#   message only when a persistent session is owed it, so without this its "durable QoS 1" runs journal nothing.
#   Publishers stay clean; the report header says so. Every run has a fresh broker, so no session outlives its run)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG_TAG=compare
# a JVM broker on a 2-core machine busy with other work took over 20 s to listen (seen 2026-12-03, load average 22)
PORT_TIMEOUT_S="${PORT_TIMEOUT_S:-60}"
# shellcheck source=perf-scripts/lib.sh
source "$ROOT/perf-scripts/lib.sh"

SMOKE="${SMOKE:-0}"
if [[ "$SMOKE" == 1 ]]; then
    # CI mode: tiny durations and few connections, no build, a report outside results/; well under a minute.
    DURATION="${DURATION:-1s}"
    WARMUP="${WARMUP:-0.3s}"
    TLS_WARMUP="${TLS_WARMUP:-0.5s}"
    RATE="${RATE:-2000}"
    MANY_PUBLISHERS="${MANY_PUBLISHERS:-20}"
    SHARED_SUBSCRIBERS="${SHARED_SUBSCRIBERS:-2}"
    FANOUT_SUBSCRIBERS="${FANOUT_SUBSCRIBERS:-10}"
    FANOUT_RATE="${FANOUT_RATE:-200}"
    FANOUT_LARGE_SUBSCRIBERS="${FANOUT_LARGE_SUBSCRIBERS:-50}"
    FANOUT_LARGE_RATE="${FANOUT_LARGE_RATE:-20}"
    CONNECTIONS="${CONNECTIONS:-200}"
    CONNECTIONS_HOLD="${CONNECTIONS_HOLD:-0.5s}"
    WS_VS_TCP_ROUNDS="${WS_VS_TCP_ROUNDS:-1}"
    SKIP_BUILD="${SKIP_BUILD:-1}"
    SCENARIOS="${SCENARIOS:-qos0-flat qos1-paced fanout-flat connections}"
    BROKERS="${BROKERS:-mosquitto skylark}"
    ROUNDS="${ROUNDS:-1}"
    INGEST_SMALL="${INGEST_SMALL:-10}"
    INGEST_LARGE="${INGEST_LARGE:-50}"
    SLOW_DEVICES="${SLOW_DEVICES:-200}"
fi
DURATION="${DURATION:-5s}"
# JIT: C2 was still compiling (10 % of the CPU) in the measured window after a 1 s warm-up; the WebSocket path has
# more code to compile than TCP, and the JDK's AES-GCM runs ~100x slower until C2 has compiled it.
WARMUP="${WARMUP:-3s}"
TLS_WARMUP="${TLS_WARMUP:-6s}"
PUBLISHERS="${PUBLISHERS:-4}"
RATE="${RATE:-20000}"
MANY_PUBLISHERS="${MANY_PUBLISHERS:-100}"
SHARED_SUBSCRIBERS="${SHARED_SUBSCRIBERS:-4}"
FANOUT_SUBSCRIBERS="${FANOUT_SUBSCRIBERS:-100}"
FANOUT_RATE="${FANOUT_RATE:-1000}"
FANOUT_LARGE_SUBSCRIBERS="${FANOUT_LARGE_SUBSCRIBERS:-1000}"
FANOUT_LARGE_RATE="${FANOUT_LARGE_RATE:-100}"
P2P_PAIRS="${P2P_PAIRS:-4}"
CONNECTIONS="${CONNECTIONS:-5000}"
CONNECTIONS_HOLD="${CONNECTIONS_HOLD:-3s}"
SOURCE_ADDRESSES="${SOURCE_ADDRESSES:-4}"
MAX_OUTSTANDING="${MAX_OUTSTANDING:-10000}"
PAYLOAD="${PAYLOAD:-64}"
INFLIGHT="${INFLIGHT:-16}"
MQTT_VERSION="${MQTT_VERSION:-3}"
THREADS="${THREADS:-2}"
WS_PATH="${WS_PATH:-/mqtt}"
WS_VS_TCP_ROUNDS="${WS_VS_TCP_ROUNDS:-3}"
# Alternating rounds: per scenario every broker once, then again, ... (A B C A B C): drift in the machine's other load
# hits every broker alike; the table gives the median and min..max of each figure.
ROUNDS="${ROUNDS:-3}"
# QoS 1 ingest (issue #21): INGEST_SMALL and INGEST_LARGE publishers, window 64 and window 1, to one subscriber and to
# a $share group of INGEST_SHARED
INGEST_SMALL="${INGEST_SMALL:-100}"
INGEST_LARGE="${INGEST_LARGE:-1000}"
INGEST_SHARED="${INGEST_SHARED:-4}"
# many slow devices: SLOW_DEVICES connections, each publishing QoS 1 SLOW_DEVICE_RATE times a second
SLOW_DEVICES="${SLOW_DEVICES:-10000}"
SLOW_DEVICE_RATE="${SLOW_DEVICE_RATE:-1}"
BROKERS="${BROKERS:-relay mosquitto hivemq skylark}"
HIVEMQ_JAR="${HIVEMQ_JAR:-$ROOT/perf-scripts/hivemq-launcher/target/hivemq-launcher.jar}"
HIVEMQ_JAVA_OPTS="${HIVEMQ_JAVA_OPTS:-}"
HIVEMQ_MAX_QUEUE="${HIVEMQ_MAX_QUEUE:-}"   # HiveMQ's per-client queue (max-queue-size); empty = its default, 1000
CC="${CC:-cc}"
SKIP_BUILD="${SKIP_BUILD:-0}"
MOSQUITTO="${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}"
SKYLARK_JAR="${SKYLARK_JAR:-$ROOT/broker/target/skylark.jar}"
SKYLARK_ARGS="${SKYLARK_ARGS:-}"
SKYLARK_JAVA_OPTS="${SKYLARK_JAVA_OPTS:-}"
JAVA_OPTS="${JAVA_OPTS:-}"
LOADGEN_CP="${LOADGEN_CP:-$ROOT/benchmarks/target/benchmarks.jar}"
PERSISTENT_SUBSCRIBERS="${PERSISTENT_SUBSCRIBERS:-0}"
[[ "$PERSISTENT_SUBSCRIBERS" == 0 || "$PERSISTENT_SUBSCRIBERS" == 1 ]] ||
    { echo "PERSISTENT_SUBSCRIBERS must be 0 or 1: $PERSISTENT_SUBSCRIBERS" >&2; exit 1; }
# Every process here may hold at most 20,000 open files; the load generator raises no limit, so it needs its
# connections plus ~100 descriptors of its own (JVM, jars, selector) below the soft limit.
FD_LIMIT="$(ulimit -Sn)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/skylark-compare.XXXXXX")"
chmod 755 "$WORK"   # mosquitto drops privileges when started as root
# Mosquitto started as root reads its certificate after dropping to its own user, so the TLS files go where that user
# can reach them whatever TMPDIR is (a test's private temp directory, say).
TLS_DIR="$(mktemp -d /tmp/skylark-compare-tls.XXXXXX)"
chmod 755 "$TLS_DIR"
CA_FILE="$TLS_DIR/cert.pem"

# scenario name -> load generator arguments (given after the common ones, so they override them)
DEFAULT_SCENARIOS="qos0-flat qos1-flat qos2-flat qos0-paced qos1-paced qos0-flat-many shared-qos1-flat fanout-flat"
DEFAULT_SCENARIOS+=" fanout-paced fanout1000-paced p2p-qos1-flat connections"
INGEST_SCENARIOS="ingest$INGEST_SMALL-w64 ingest$INGEST_SMALL-w1 ingest$INGEST_LARGE-w64 ingest$INGEST_LARGE-w1"
INGEST_SCENARIOS+=" shared-ingest$INGEST_SMALL-w64 shared-ingest$INGEST_SMALL-w1 shared-ingest$INGEST_LARGE-w64"
INGEST_SCENARIOS+=" shared-ingest$INGEST_LARGE-w1"
DEFAULT_SCENARIOS+=" $INGEST_SCENARIOS slow-devices"
OPT_IN_SCENARIOS="qos0-flat-ws qos0-flat-tls qos0-flat-wss ws-vs-tcp qos2-paced qos1-paced-many fanout1000-flat"
OPT_IN_SCENARIOS+=" qos0-flat-1k qos0-flat-16k qos1-flat-1k"
# three nodes (broker skylark-cluster3) against one (skylark), issue #18: BROKERS="skylark skylark-cluster3"
CLUSTER_SCENARIOS="cluster-fanin-qos0-flat cluster-fanin-qos1-flat cluster-fanin-qos0-paced cluster-fanin-qos1-paced"
CLUSTER_SCENARIOS+=" cluster-fanout-qos0-flat cluster-fanout-qos1-flat cluster-local-qos0-flat"
# issue #19: QoS 1 fan-in with the acceptance test's window of 64, across one hop: the cost of skylark.cluster.ack=replica
# (BROKERS="skylark skylark-cluster3-local skylark-cluster3-replica", see perf-scripts/cluster-ack.sh)
CLUSTER_SCENARIOS+=" cluster-fanin-qos1-w64"
OPT_IN_SCENARIOS+=" $CLUSTER_SCENARIOS"
CLUSTER_RATE="${CLUSTER_RATE:-5000}"
CLUSTER_IDLE_S="${CLUSTER_IDLE_S:-2}"
CLUSTER_FANOUT_SUBSCRIBERS="${CLUSTER_FANOUT_SUBSCRIBERS:-30}"
SCENARIOS="${SCENARIOS:-$DEFAULT_SCENARIOS}"
[[ "$SCENARIOS" == all ]] && SCENARIOS="$DEFAULT_SCENARIOS $OPT_IN_SCENARIOS"
read -r -a SCENARIOS <<< "$SCENARIOS"
declare -A SCENARIO_ARGS=(
    [qos0-flat]="--qos 0"
    [qos0-flat-ws]="--qos 0 --transport ws --ws-path $WS_PATH"
    [qos0-flat-tls]="--qos 0 --transport tls --cafile $CA_FILE --warmup $TLS_WARMUP"
    [qos0-flat-wss]="--qos 0 --transport wss --ws-path $WS_PATH --cafile $CA_FILE --warmup $TLS_WARMUP"
    [qos1-flat]="--qos 1"
    [qos2-flat]="--qos 2"
    [qos0-paced]="--qos 0 --rate $RATE"
    [qos1-paced]="--qos 1 --rate $RATE"
    [qos2-paced]="--qos 2 --rate $RATE"
    [qos0-flat-many]="--qos 0 --publishers $MANY_PUBLISHERS"
    [qos1-paced-many]="--qos 1 --publishers $MANY_PUBLISHERS --rate $RATE"
    [shared-qos1-flat]="--qos 1 --subscribers $SHARED_SUBSCRIBERS --shared-group backends"
    [qos0-flat-1k]="--qos 0 --payload 1024"
    [qos0-flat-16k]="--qos 0 --payload 16384"
    [qos1-flat-1k]="--qos 1 --payload 1024"
    [fanout-flat]="--scenario fan-out --publishers 1 --subscribers $FANOUT_SUBSCRIBERS --qos 0"
    [fanout-paced]="--scenario fan-out --publishers 1 --subscribers $FANOUT_SUBSCRIBERS --qos 0 --rate $FANOUT_RATE"
    [fanout1000-flat]="--scenario fan-out --publishers 1 --subscribers $FANOUT_LARGE_SUBSCRIBERS --qos 0"
    [fanout1000-paced]="--scenario fan-out --publishers 1 --subscribers $FANOUT_LARGE_SUBSCRIBERS --qos 0 --rate $FANOUT_LARGE_RATE"
    [p2p-qos1-flat]="--scenario p2p --publishers $P2P_PAIRS --qos 1"
    [connections]="--scenario connections --connections $CONNECTIONS --source-addresses $SOURCE_ADDRESSES --duration $CONNECTIONS_HOLD --warmup 1s"
    [cluster-fanin-qos0-flat]="--qos 0"
    [cluster-fanin-qos1-flat]="--qos 1"
    [cluster-fanin-qos0-paced]="--qos 0 --rate $CLUSTER_RATE"
    [cluster-fanin-qos1-paced]="--qos 1 --rate $CLUSTER_RATE"
    [cluster-fanout-qos0-flat]="--scenario fan-out --publishers 1 --subscribers $CLUSTER_FANOUT_SUBSCRIBERS --qos 0"
    [cluster-fanout-qos1-flat]="--scenario fan-out --publishers 1 --subscribers $CLUSTER_FANOUT_SUBSCRIBERS --qos 1"
    [cluster-local-qos0-flat]="--qos 0"
    [cluster-fanin-qos1-w64]="--qos 1 --inflight 64"
    [ws-vs-tcp]=""   # Skylark only: alternating qos0-flat and qos0-flat-ws rounds, reported as one ratio
    # every device publishes once every 1/SLOW_DEVICE_RATE s, paced (latency from the intended send time)
    [slow-devices]="--qos 1 --publishers $SLOW_DEVICES --rate $((SLOW_DEVICES * SLOW_DEVICE_RATE)) --connect-timeout 300s"
)
for n in "$INGEST_SMALL" "$INGEST_LARGE"; do
    for w in 64 1; do
        # 1,000 connections took HiveMQ more than the load generator's default 5 s on a busy 2-core machine
        SCENARIO_ARGS[ingest$n-w$w]="--qos 1 --publishers $n --inflight $w --connect-timeout 120s"
        SCENARIO_ARGS[shared-ingest$n-w$w]="--qos 1 --publishers $n --inflight $w --subscribers $INGEST_SHARED --shared-group backends --connect-timeout 120s"
    done
done
# cluster scenarios on skylark-cluster3: "<publishers' nodes> <subscribers' nodes>", connection i of a role on node
# list[i mod n] (load generator --publisher-ports / --subscriber-ports); on a single broker everything is on its port.
# fan-in: publishers on node 0, the subscriber on node 1 (every message crosses one hop); fan-out: the publisher on
# node 0, subscribers round robin over nodes 0, 1, 2 (one peer message per remote node); local: all on node 0 (the
# cluster's fixed cost without forwarding).
declare -A SCENARIO_PLACEMENT=(
    [cluster-fanin-qos0-flat]="0 1"
    [cluster-fanin-qos1-flat]="0 1"
    [cluster-fanin-qos0-paced]="0 1"
    [cluster-fanin-qos1-paced]="0 1"
    [cluster-fanout-qos0-flat]="0 0,1,2"
    [cluster-fanout-qos1-flat]="0 0,1,2"
    [cluster-local-qos0-flat]="0 0"
    [cluster-fanin-qos1-w64]="0 1"
)
# the null relay forwards every QoS 0 PUBLISH to every subscriber, unmatched: right only where every subscriber is
# meant to get every message (fan-in to one subscriber, fan-out on one topic), over plain TCP
RELAY_SCENARIOS=" qos0-flat qos0-paced qos0-flat-many qos0-flat-1k qos0-flat-16k fanout-flat fanout-paced"
RELAY_SCENARIOS+=" fanout1000-flat fanout1000-paced "
DEFAULT_METRICS="rate_msgs_s sent_msgs_s lost p50_us p99_us p999_us max_us broker_cpu_us_per_msg puback_p50_us puback_p99_us puback_p999_us"
[[ " ${SCENARIOS[*]} " == *" cluster-"* ]] && DEFAULT_METRICS+=" broker_cpu broker_idle_cpu broker_net_cpu_us_per_msg broker_rss_kb"
read -r -a METRICS <<< "${METRICS:-$DEFAULT_METRICS}"
CONNECTION_METRICS=(ready rate_conn_s rss_before_kb rss_held_kb bytes_per_conn)

BROKER_PID=""
BROKER_NAME=""
declare -A RESULT=()
WS_VS_TCP_LINE=""
NL=$'\n'
HOST="$(hostname -s 2>/dev/null || hostname)"
DATE="$(date +%Y-%m-%d)"
# raw output and .hlog histogram logs of each run (not committed, see .gitignore)
RESULTS_DIR="$ROOT/perf-scripts/results/raw/$DATE-$HOST"
if [[ "$SMOKE" == 1 ]]; then
    RESULTS_DIR="$WORK/raw"
    REPORT="${REPORT:-${TMPDIR:-/tmp}/skylark-compare-smoke-$DATE.md}"
fi
REPORT="${REPORT:-$ROOT/perf-scripts/results/$DATE-$HOST.md}"
PLOT="${REPORT%.md}-latency.png"
RUNS="$WORK/runs.tsv"   # <broker> <scenario> <round> <RESULT line or FAILED>, tab-separated, as runs finish
RAN=()
LOAD_AFTER=""

cleanup() {
    stop_current
    rm -rf "$WORK" "$TLS_DIR"
}

# HiveMQ keeps nothing worth a clean shutdown here (in-memory persistence) and takes ~4 s to stop: kill it.
stop_current() {
    if [[ "$BROKER_NAME" == hivemq && -n "${BROKER_PID:-}" ]]; then
        kill -KILL "$BROKER_PID" 2>/dev/null || true
    fi
    if ((${#CLUSTER_PIDS[@]} > 0)); then
        stop_skylark_cluster3
    fi
    stop_broker
    BROKER_NAME=""
}

# start_relay <port>: the null relay (perf-scripts/relay/null-relay.c, compiled by prepare_relay)
start_relay() {
    "$WORK/null-relay" "$1" > "$WORK/relay.log" 2>&1 &
    BROKER_PID=$!
    wait_port "$1" "$BROKER_PID" relay
}

# start_hivemq <port>: HiveMQ CE embedded (perf-scripts/hivemq-launcher): in-memory persistence, every client allowed,
# no usage statistics, one listener on 127.0.0.1:<port>, otherwise HiveMQ's defaults (HIVEMQ_MAX_QUEUE: its per-client
# queue).
start_hivemq() {
    local port="$1"
    rm -rf "$WORK/hivemq"
    mkdir -p "$WORK/hivemq"
    # shellcheck disable=SC2086
    java $HIVEMQ_JAVA_OPTS -jar "$HIVEMQ_JAR" "$port" "$WORK/hivemq" $HIVEMQ_MAX_QUEUE > "$WORK/hivemq.log" 2>&1 &
    BROKER_PID=$!
    PORT_TIMEOUT_S="${HIVEMQ_START_TIMEOUT_S:-90}" wait_port "$port" "$BROKER_PID" hivemq
}

# start_skylark_as <broker> <port> [<kind> <port>]: skylark-<X> runs $SKYLARK_JAR_<X> (ab.sh: skylark-A, skylark-B)
# with $SKYLARK_ARGS_<X> (e.g. skylark-fsync: SKYLARK_ARGS_fsync="--skylark.durability fsync")
start_skylark_as() {
    local broker="$1" jar
    shift
    jar="$(jar_of "$broker")"
    SKYLARK_JAR="$jar" SKYLARK_ARGS="$(args_of "$broker")" start_skylark "$@"
}

# args_of <broker>: the arguments after -jar of a skylark or skylark-<X> broker
args_of() {
    local var
    if [[ "$1" == skylark-* && "$1" != skylark-cluster3* ]]; then
        var="SKYLARK_ARGS_${1#skylark-}"
        echo "${!var:-$SKYLARK_ARGS}"
    else
        echo "$SKYLARK_ARGS"
    fi
}

# applies <broker> <scenario>: whether the broker takes part in the scenario
applies() {
    local broker="$1" scenario="$2" kind
    kind="$(listener_kind "$scenario")"
    case "$broker" in
        relay) [[ "$RELAY_SCENARIOS" == *" $scenario "* ]] ;;
        hivemq) [[ -z "$kind" && "$scenario" != ws-vs-tcp ]] ;;   # plain MQTT listener only
        mosquitto) [[ "$scenario" != ws-vs-tcp ]] ;;
        skylark-cluster3 | skylark-cluster3-*) [[ "$scenario" == cluster-* ]] ;;   # a three-node cluster: its own scenarios only
        *) true ;;   # cluster-* on any other broker: the same clients, all on its one port
    esac
}

# jar_of <broker>: the Skylark jar a skylark or skylark-<X> broker runs
jar_of() {
    local var
    # skylark-cluster3-<ack mode> (issue #19) runs $SKYLARK_JAR like skylark-cluster3 ('-' cannot be in a variable name)
    [[ "$1" == skylark-cluster3-* ]] && { echo "$SKYLARK_JAR"; return 0; }
    if [[ "$1" == skylark-* ]]; then
        var="SKYLARK_JAR_${1#skylark-}"
        echo "${!var:-$SKYLARK_JAR}"
    else
        echo "$SKYLARK_JAR"
    fi
}

# prepare_relay: compile the null relay; false (relay skipped) without a C compiler
prepare_relay() {
    if ! command -v "$CC" > /dev/null; then
        log "skipping the null relay: no C compiler ($CC; set CC=...)"
        return 1
    fi
    "$CC" -O2 -o "$WORK/null-relay" "$ROOT/perf-scripts/relay/null-relay.c" 2> "$WORK/relay-cc.log" ||
        { log "skipping the null relay: $CC failed:"; cat "$WORK/relay-cc.log" >&2; return 1; }
}

# prepare_hivemq: build the HiveMQ launcher jar on demand (not part of the default build: ~60 MB of dependencies)
prepare_hivemq() {
    [[ -f "$HIVEMQ_JAR" ]] && return 0
    log "building the HiveMQ CE launcher (mvn -B -q -f perf-scripts/hivemq-launcher/pom.xml package)"
    (cd "$ROOT" && mvn -B -q -f perf-scripts/hivemq-launcher/pom.xml package > "$WORK/hivemq-build.log" 2>&1) ||
        { log "skipping HiveMQ: its launcher did not build:"; tail -20 "$WORK/hivemq-build.log" >&2; return 1; }
    [[ -f "$HIVEMQ_JAR" ]] || { log "skipping HiveMQ: $HIVEMQ_JAR not found after the build"; return 1; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_mosquitto <port> [<kind> <port>]: kind ws, tls or wss adds that listener on the second port.
start_mosquitto() {
    local port="$1" kind="${2:-}" extra="${3:-}"
    cat > "$WORK/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
# deep queues so flat-out runs measure throughput, not drops; the in-flight window as usual
max_queued_messages 1000000
max_queued_bytes 0
max_inflight_messages 100
# Nagle off, as a latency-minded broker would run
set_tcp_nodelay true
log_dest stdout
log_type error
log_type warning
CONF
    if [[ -n "$kind" ]]; then
        printf 'listener %s 127.0.0.1\n' "$extra" >> "$WORK/mosquitto.conf"
        # MQTT over WebSocket needs a mosquitto built with libwebsockets; it ignores the request path
        [[ "$kind" == ws || "$kind" == wss ]] && echo "protocol websockets" >> "$WORK/mosquitto.conf"
        [[ "$kind" == tls || "$kind" == wss ]] &&
            printf 'certfile %s\nkeyfile %s\n' "$TLS_DIR/cert.pem" "$TLS_DIR/key.pem" >> "$WORK/mosquitto.conf"
    fi
    "$MOSQUITTO" -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.log" 2>&1 &
    BROKER_PID=$!
    wait_port "$port" "$BROKER_PID" mosquitto || return 1
    [[ -z "$extra" ]] || wait_port "$extra" "$BROKER_PID" mosquitto
}

# listener_kind <scenario>: the extra listener a scenario talks to (ws, tls, wss), or nothing for plain MQTT.
listener_kind() {
    case "$1" in
        *-ws) echo ws ;;
        *-tls) echo tls ;;
        *-wss) echo wss ;;
        *) echo "" ;;
    esac
}

# run_scenario <broker> <port> <scenario> [<result key> [<round>]]
run_scenario() {
    local broker="$1" port="$2" scenario="$3" key="${4:-$3}" round="${5:-1}" out rc=0 line label="$3"
    # ws-vs-tcp rounds are reported on their own line, not in the qos0-flat rows
    [[ "$key" == ws-vs-tcp-* ]] && label="${key%-*}"
    local placement=() nodes persistent=()
    # every scenario has subscribers (connections: its idle connections are subscribers too)
    [[ "$PERSISTENT_SUBSCRIBERS" == 1 ]] && persistent=(--persistent-subscribers)
    if [[ ( "$broker" == skylark-cluster3 || "$broker" == skylark-cluster3-* ) && -n "${SCENARIO_PLACEMENT[$scenario]:-}" ]]; then
        read -r -a nodes <<< "${SCENARIO_PLACEMENT[$scenario]}"
        # broker CPU: the sum of the three JVMs (--broker-pids replaces --broker-pid)
        placement=(--publisher-ports "$(cluster_ports "${nodes[0]}")" --subscriber-ports "$(cluster_ports "${nodes[1]}")"
            --broker-pids "$(IFS=,; echo "${CLUSTER_PIDS[*]}")")
    fi
    # cluster scenarios: the brokers' CPU with no clients first (a cluster's agents cost something when idle), so the
    # per-message cost can be told from the fixed one
    local idle=""
    if [[ "$scenario" == cluster-* ]]; then
        if ((${#CLUSTER_PIDS[@]} > 0)); then
            idle="$(idle_cores "$CLUSTER_IDLE_S" "${CLUSTER_PIDS[@]}")"
        else
            idle="$(idle_cores "$CLUSTER_IDLE_S" "$BROKER_PID")"
        fi
    fi
    # shellcheck disable=SC2086
    out="$(java $JAVA_OPTS -cp "$LOADGEN_CP" dev.skylark.benchmarks.load.LoadGenerator \
        --broker "$broker" --host 127.0.0.1 --port "$port" --publishers "$PUBLISHERS" --payload "$PAYLOAD" \
        --duration "$DURATION" --warmup "$WARMUP" --inflight "$INFLIGHT" --mqtt-version "$MQTT_VERSION" \
        --threads "$THREADS" --quiet --hlog "$RESULTS_DIR/$broker-$key.hlog" \
        --max-outstanding "$MAX_OUTSTANDING" --broker-pid "$BROKER_PID" \
        ${SCENARIO_ARGS[$scenario]} "${placement[@]}" "${persistent[@]}" 2>&1)" || rc=$?
    printf '%s\n' "$out" > "$RESULTS_DIR/$broker-$key.out"
    [[ -s "$RESULTS_DIR/$broker-$key.hlog" ]] || rm -f "$RESULTS_DIR/$broker-$key.hlog"
    line="$(grep '^RESULT ' <<< "$out" || true)"
    if [[ -z "$line" ]]; then
        log "$broker $scenario failed (exit $rc):"
        printf '%s\n' "$out" >&2
        RESULT[$broker,$key]="FAILED"
        printf '%s\t%s\t%s\t%s\n' "$broker" "$label" "$round" FAILED >> "$RUNS"
        return 0
    fi
    ((rc == 0)) || log "$broker $scenario exited $rc (figures kept): $(grep '^error' <<< "$out" || true)"
    if [[ -n "$idle" ]]; then
        # broker_idle_cpu: cores used before the clients came; broker_net_cpu_us_per_msg: (broker_cpu - idle) per delivery
        line+=" broker_idle_cpu=$idle broker_net_cpu_us_per_msg=$(awk -v c="$(field "$line" broker_cpu)" -v i="$idle" \
            -v r="$(field "$line" rate_msgs_s)" 'BEGIN { if (r > 0 && c >= 0 && i >= 0) printf "%.3f", (c - i) * 1e6 / r; else print -1 }')"
    fi
    RESULT[$broker,$key]="$line"
    printf '%s\t%s\t%s\t%s\n' "$broker" "$label" "$round" "$line" >> "$RUNS"
    printf '%s\n' "$line" >&2
}

# cluster_ports <node list, e.g. 0,1,2>: the MQTT ports of those nodes of the running skylark-cluster3, comma-separated
cluster_ports() {
    local node n ports=()
    IFS=, read -r -a node <<< "$1"
    for n in "${node[@]}"; do
        ports+=("${CLUSTER_MQTT_PORTS[$n]}")
    done
    (IFS=,; echo "${ports[*]}")
}

MOSQUITTO_WS=1

# start_and_run <broker> <scenario> [<result key> [<round>]]: a fresh broker (a flat-out run leaves a backlog that
# would leak into the next one) with the listener the scenario needs, the run, the broker stopped. Returns 2 when
# skipped.
start_and_run() {
    local broker="$1" scenario="$2" key="${3:-$2}" round="${4:-1}" kind port extra="" attempt starter
    kind="$(listener_kind "$scenario")"
    if [[ "$broker" == mosquitto && "$MOSQUITTO_WS" == 0 && ( "$kind" == ws || "$kind" == wss ) ]]; then
        log "skipping mosquitto $scenario: this mosquitto has no WebSocket support"
        return 2
    fi
    # A port found free can be taken by another process before the broker binds it: try a few.
    for attempt in 1 2 3; do
        port="$(free_port)"
        [[ -z "$kind" ]] || extra="$(free_port)"
        log "$broker on 127.0.0.1:$port${kind:+ ($kind $extra)}: $scenario${4:+ (round $round/$ROUNDS)}"
        BROKER_NAME="$broker"
        case "$broker" in
            skylark-cluster3) starter=(start_skylark_cluster3) ;;
            skylark-cluster3-*) starter=(start_skylark_cluster3_ack "${broker#skylark-cluster3-}") ;;   # issue #19
            skylark*) starter=(start_skylark_as "$broker") ;;
            *) starter=("start_$broker") ;;
        esac
        if "${starter[@]}" "$port" $kind $extra; then
            break
        fi
        stop_current
        if [[ "$broker" == mosquitto && ( "$kind" == ws || "$kind" == wss ) ]] &&
            grep -qi "websockets support not available" "$WORK/mosquitto.log"; then
            # tried once: a build without libwebsockets refuses "protocol websockets"
            log "skipping mosquitto $scenario: this mosquitto has no WebSocket support"
            MOSQUITTO_WS=0
            return 2
        fi
        if ((attempt == 3)); then
            # one broker failing to start does not end a long multi-broker run: its cell reads FAILED
            log "$broker did not start after $attempt attempts: $scenario FAILED"
            RESULT[$broker,$key]="FAILED"
            printf '%s\t%s\t%s\t%s\n' "$broker" "$scenario" "$round" FAILED >> "$RUNS"
            return 0
        fi
    done
    run_scenario "$broker" "${extra:-$port}" "$scenario" "$key" "$round"
    stop_current
}

ratio() { # ratio <skylark> <mosquitto>
    awk -v s="$1" -v m="$2" 'BEGIN {
        if (s ~ /^-?[0-9.]+$/ && m ~ /^-?[0-9.]+$/ && m + 0 != 0) printf "%.2f", s / m; else print "-" }'
}

median() { # median <number>...
    printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "-"; else if (NR % 2) printf "%.2f", v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Skylark's MQTT-over-WebSocket vs TCP fan-in throughput, QoS 0 flat out, in alternating rounds (A B, B A, ...) so
# that a change in the machine's other load hits both sides alike; the median of the per-round ratios is reported.
ws_vs_tcp() {
    local sky="${1:-skylark}" round ratios=() cpu_ratios=() tcp_rates=() ws_rates=() t w
    for ((round = 1; round <= WS_VS_TCP_ROUNDS; round++)); do
        if ((round % 2)); then
            start_and_run "$sky" qos0-flat "ws-vs-tcp-tcp-$round"
            start_and_run "$sky" qos0-flat-ws "ws-vs-tcp-ws-$round"
        else
            start_and_run "$sky" qos0-flat-ws "ws-vs-tcp-ws-$round"
            start_and_run "$sky" qos0-flat "ws-vs-tcp-tcp-$round"
        fi
        t="${RESULT[$sky,ws-vs-tcp-tcp-$round]:-FAILED}"
        w="${RESULT[$sky,ws-vs-tcp-ws-$round]:-FAILED}"
        [[ "$t" != FAILED && "$w" != FAILED ]] || continue
        tcp_rates+=("$(field "$t" rate_msgs_s)")
        ws_rates+=("$(field "$w" rate_msgs_s)")
        ratios+=("$(ratio "$(field "$w" rate_msgs_s)" "$(field "$t" rate_msgs_s)")")
        cpu_ratios+=("$(ratio "$(field "$w" broker_cpu_us_per_msg)" "$(field "$t" broker_cpu_us_per_msg)")")
    done
    if ((${#ratios[@]} == 0)); then
        WS_VS_TCP_LINE+="${WS_VS_TCP_LINE:+$NL}ws-vs-tcp: $sky FAILED (no complete round)"
    else
        WS_VS_TCP_LINE+="${WS_VS_TCP_LINE:+$NL}ws-vs-tcp: $sky WS/TCP throughput $(median "${ratios[@]}") (goal >= 0.9; median of"
        WS_VS_TCP_LINE+=" ${#ratios[@]} alternating round(s): ${ratios[*]}; msgs/s TCP ${tcp_rates[*]}, WS ${ws_rates[*]});"
        WS_VS_TCP_LINE+=" broker CPU per message WS/TCP $(median "${cpu_ratios[@]}") (${cpu_ratios[*]})"
    fi
    log "${WS_VS_TCP_LINE##*$NL}"
}

main() {
    if [[ " $BROKERS " == *" mosquitto "* && ! -x "$MOSQUITTO" ]]; then
        log "mosquitto not found (set MOSQUITTO=/path/to/mosquitto, or BROKERS without mosquitto)"
        exit 1
    fi
    local scenario
    for scenario in "${SCENARIOS[@]}"; do
        [[ -n "${SCENARIO_ARGS[$scenario]+set}" ]] ||
            { log "unknown scenario: $scenario (known: $DEFAULT_SCENARIOS $OPT_IN_SCENARIOS)"; exit 1; }
    done
    if [[ "$SKIP_BUILD" != 1 ]]; then
        log "building (mvn -B -q -DskipTests package)"
        (cd "$ROOT" && mvn -B -q -DskipTests package)
    fi
    [[ -n "$LOADGEN_CP" && ( "$LOADGEN_CP" == *:* || -e "$LOADGEN_CP" ) ]] || { log "missing $LOADGEN_CP"; exit 1; }
    if [[ " ${SCENARIOS[*]} " == *" connections "* ]] && ((CONNECTIONS + 100 > FD_LIMIT)); then
        log "CONNECTIONS=$CONNECTIONS does not fit the open-files limit $FD_LIMIT (connections + 100 must); lower it"
        exit 1
    fi
    if [[ " ${SCENARIOS[*]} " == *" fanout1000-"* ]] && ((FANOUT_LARGE_SUBSCRIBERS + 100 > FD_LIMIT)); then
        log "FANOUT_LARGE_SUBSCRIBERS=$FANOUT_LARGE_SUBSCRIBERS does not fit the open-files limit $FD_LIMIT; lower it"
        exit 1
    fi
    # one load generator process holds every device plus its subscriber, and the broker all of them
    if [[ " ${SCENARIOS[*]} " == *" slow-devices "* ]] && ((SLOW_DEVICES + 100 > FD_LIMIT)); then
        log "SLOW_DEVICES=$SLOW_DEVICES does not fit the open-files limit $FD_LIMIT (devices + 100 must); lower it"
        exit 1
    fi
    if [[ " ${SCENARIOS[*]} " == *"-tls "* || " ${SCENARIOS[*]} " == *"-wss "* ]]; then
        make_certificate "$TLS_DIR" || exit 1
    fi
    mkdir -p "$RESULTS_DIR" "$(dirname "$REPORT")"
    : > "$RUNS"
    LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

    local ran=() broker round
    for broker in $BROKERS; do
        case "$broker" in
            relay) prepare_relay || continue ;;
            mosquitto) ;;
            hivemq) prepare_hivemq || continue ;;
            skylark | skylark-*)
                if [[ ! -f "$(jar_of "$broker")" ]]; then
                    log "skipping $broker: $(jar_of "$broker") not found (build the broker module first)"
                    continue
                fi
                ;;
            *) log "unknown broker: $broker (relay, mosquitto, hivemq, skylark, skylark-<X>)"; exit 1 ;;
        esac
        ran+=("$broker")
    done
    RAN=("${ran[@]}")

    # per scenario: round 1 of every broker, round 2 of every broker, ...
    for scenario in "${SCENARIOS[@]}"; do
        if [[ "$scenario" == ws-vs-tcp ]]; then
            for broker in "${ran[@]}"; do
                [[ "$broker" == skylark* ]] && ws_vs_tcp "$broker"
            done
            continue
        fi
        for ((round = 1; round <= ROUNDS; round++)); do
            for broker in "${ran[@]}"; do
                applies "$broker" "$scenario" || continue
                if ((ROUNDS == 1)); then
                    start_and_run "$broker" "$scenario" || true
                else
                    start_and_run "$broker" "$scenario" "$scenario-r$round" "$round" || true
                fi
            done
        done
        # the report so far, so a long run stopped early still leaves one (not in the short SMOKE runs)
        if [[ "$SMOKE" != 1 ]]; then
            LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg) (so far)"
            write_report "${ran[@]}"
        fi
    done
    LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

    plot_latency
    write_report "${ran[@]}"
    cat "$REPORT"
    log "written to $REPORT (raw output and .hlog files in $RESULTS_DIR)"
}

write_report() {
    local ran=("$@") scenario
    {
        local title="# ${REPORT_TITLE:-Skylark vs ${ran[*]}}, $DATE on $HOST"
        [[ "$SMOKE" == 1 ]] && title+=" (SMOKE run: tiny durations, figures meaningless)"
        echo "$title"
        echo
        echo "- cpu: $(nproc) x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
        [[ -n "${JAVA_VERSION:-}" ]] || JAVA_VERSION="$(java -version 2>&1 | head -1)"
        echo "- java: $JAVA_VERSION; mosquitto:" \
            "$( [[ -x "$MOSQUITTO" ]] && "$MOSQUITTO" -h 2>&1 | sed -n 's/^mosquitto version //p' | head -1)"
        echo "- load average before the run: $LOAD_BEFORE, after: $LOAD_AFTER (other work on the machine skews figures)"
        echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "- brokers: ${ran[*]}; $ROUNDS alternating round(s) per scenario (every broker once per round, in this" \
            "order); cells: median (min..max) over the rounds; n/a: the broker does not take part"
        local b
        for b in "${ran[@]}"; do
            case "$b" in
                relay) echo "- relay: the null relay (perf-scripts/relay/null-relay.c): CONNACK, SUBACK, every QoS 0" \
                    "PUBLISH forwarded byte for byte to every subscriber, one thread, epoll; QoS 0 over TCP only" \
                    "(fan-in to one subscriber, fan-out): what the kernel and loopback allow, the 1.0" ;;
                mosquitto) echo "- mosquitto: persistence off, anonymous, max_queued_messages 1000000, in-flight 100," \
                    "TCP_NODELAY" ;;
                hivemq) echo "- hivemq: HiveMQ CE 2025.5 embedded (perf-scripts/hivemq-launcher), in-memory persistence," \
                    "every client allowed, usage statistics off, otherwise defaults (per-client queue" \
                    "${HIVEMQ_MAX_QUEUE:-1000, the default}); JVM options: ${HIVEMQ_JAVA_OPTS:-none}; plain MQTT only" ;;
                skylark-cluster3) echo "- skylark-cluster3: three Skylark nodes (docs/cluster.md), one JVM each, on this" \
                    "machine, $SKYLARK_JAR with the same settings as skylark plus skylark.cluster.node.id/members" \
                    "(JVM: ${SKYLARK_JAVA_OPTS:-defaults} ${SKYLARK_CLUSTER_JAVA_OPTS:-}); broker CPU = the sum of the three;" \
                    "cluster-fanin-*: publishers on node 0, subscriber on node 1; cluster-fanout-*: publisher on node 0," \
                    "$CLUSTER_FANOUT_SUBSCRIBERS subscribers round robin over nodes 0, 1, 2; cluster-local-*: all on node" \
                    "0; paced at $CLUSTER_RATE msgs/s; skylark (one node) runs the same scenarios on its one port" ;;
                skylark-cluster3-*) echo "- $b: skylark-cluster3 with -Dskylark.cluster.ack=${b#skylark-cluster3-}" \
                    "$(cluster_ack_supported || echo "NOT APPLIED: this build has no skylark.cluster.ack (before issue #19), so it ran with its default")" ;;
                skylark*) echo "- $b: $(jar_of "$b") with $( [[ "${SKYLARK_ALIGN:-1}" == 0 ]] &&
                    echo "its own defaults" || echo "-Dskylark.queue.max.messages=1000000 -Dskylark.inflight.max=100")" \
                    "$(args_of "$b") (JVM: ${SKYLARK_JAVA_OPTS:-defaults})" ;;
            esac
        done
        echo "- fan-in (qos*): $PUBLISHERS publishers -> 1 subscriber on devices/+/telemetry (*-many: $MANY_PUBLISHERS" \
            "publishers; shared-*: $SHARED_SUBSCRIBERS subscribers in one \$share group, each message to one of them);" \
            "fan-out: 1 publisher -> $FANOUT_SUBSCRIBERS subscribers on one topic (paced at $FANOUT_RATE msgs/s =" \
            "$((FANOUT_RATE * FANOUT_SUBSCRIBERS)) deliveries/s), fanout1000-*: -> $FANOUT_LARGE_SUBSCRIBERS subscribers" \
            "(paced at $FANOUT_LARGE_RATE msgs/s = $((FANOUT_LARGE_RATE * FANOUT_LARGE_SUBSCRIBERS)) deliveries/s);" \
            "p2p: $P2P_PAIRS publisher->subscriber pairs, QoS 1; payload $PAYLOAD B (*-1k, *-16k: 1,024 and 16,384 B)," \
            "MQTT $MQTT_VERSION, warm-up $WARMUP, measured $DURATION, flat-out in-flight window $INFLIGHT and at most" \
            "$MAX_OUTSTANDING deliveries outstanding, paced fan-in at $RATE msgs/s"
        [[ " ${SCENARIOS[*]} " == *" ingest"* || " ${SCENARIOS[*]} " == *" shared-ingest"* ]] &&
            echo "- ingest<N>-w<W>: QoS 1 fan-in flat out from N publishers, each with an in-flight window of W, to one" \
                "QoS 1 subscriber; shared-ingest*: to a \$share group of $INGEST_SHARED subscribers"
        [[ " ${SCENARIOS[*]} " == *" slow-devices "* ]] &&
            echo "- slow-devices: $SLOW_DEVICES connections, each publishing QoS 1 $SLOW_DEVICE_RATE time(s) a second" \
                "($((SLOW_DEVICES * SLOW_DEVICE_RATE)) msgs/s in all, paced) -> 1 subscriber; puback_* = send (intended" \
                "time) to PUBACK, us; broker_cpu_us_per_msg = broker CPU per message"
        [[ " ${SCENARIOS[*]} " == *"-ws "* || " ${SCENARIOS[*]} " == *" ws-vs-tcp "* ]] &&
            echo "- *-ws: the same over MQTT over WebSocket (binary frames, subprotocol mqtt, path $WS_PATH; masked" \
                "client frames) to the broker's WebSocket listener"
        [[ " ${SCENARIOS[*]} " == *"-tls "* || " ${SCENARIOS[*]} " == *"-wss "* ]] &&
            echo "- *-tls / *-wss: MQTT over TLS and over secure WebSocket (JDK SSLEngine in the load generator," \
                "self-signed EC P-256 certificate, verified with --cafile), warm-up $TLS_WARMUP (JIT of the ciphers)"
        if [[ "$PERSISTENT_SUBSCRIBERS" == 1 ]]; then
            echo "- PERSISTENT_SUBSCRIBERS=1: every subscriber (and idle connection) connected as a persistent session" \
                "(--persistent-subscribers: MQTT 3.1.1 Clean Session 0, MQTT 5 Clean Start 1 + Session Expiry 3600 s)," \
                "so a broker keeps and journals QoS 1/2 messages for it; publishers clean"
        else
            echo "- subscribers: clean sessions (Clean Session / Clean Start 1, no expiry): nothing journaled for them;" \
                "PERSISTENT_SUBSCRIBERS=1 makes them persistent"
        fi
        echo "- connections: $CONNECTIONS idle connections (CONNECT + SUBSCRIBE idle/<i>) from $SOURCE_ADDRESSES loopback" \
            "source addresses, held $CONNECTIONS_HOLD; bytes_per_conn = (broker VmRSS after the hold - before connecting) / ready"
        echo "- rate_msgs_s = deliveries arriving during the measured window (fan-out: all subscribers together);" \
            "latency in us (paced: from intended send time, coordinated-omission corrected; flat-out: queueing included);" \
            "broker_cpu_us_per_msg = broker CPU time (all threads) per delivery in the window, steadier than rates" \
            "when other work shares the machine; ratio = ${ran[${#ran[@]}-1]:-skylark} / the other broker (higher is" \
            "better for rates, lower for latency, loss, CPU and memory)"
        [[ -f "$PLOT" ]] && echo "- latency percentiles of the paced runs: $(basename "$PLOT")"
        [[ -n "${REPORT_NOTE:-}" ]] && echo "- note: $REPORT_NOTE"
        [[ -n "$WS_VS_TCP_LINE" ]] && { echo; echo "$WS_VS_TCP_LINE"; }
        if [[ " ${ran[*]} " == *" relay "* ]] && grep -q '^relay' "$RUNS"; then
            echo
            echo "QoS 0 against the null relay (= 1.0; broker CPU per delivery in ns):"
            echo
            python3 "$ROOT/perf-scripts/summarize.py" "$RUNS" relay --brokers "${ran[*]}" --scenarios "${SCENARIOS[*]}"
        fi
        echo
        python3 "$ROOT/perf-scripts/summarize.py" "$RUNS" table --brokers "${ran[*]}" --scenarios "${SCENARIOS[*]}" \
            --metrics "${METRICS[*]}" --connection-metrics "${CONNECTION_METRICS[*]}"
        echo
        echo '```'
        # every run's RESULT line, in the order they ran
        cut -f4 "$RUNS" | grep '^RESULT ' || true
        echo '```'
    } > "$REPORT.tmp"
    mv "$REPORT.tmp" "$REPORT"   # whole: a run stopped while the report is written keeps the previous one
}

# Latency percentile plot (HdrHistogram style, x = 1/(1-percentile)) of every paced run's histogram log. Tic labels
# are format strings to gnuplot, hence '%%'.
plot_latency() {
    local hlogs=() f name series=()
    for f in "$RESULTS_DIR"/*-paced*.hlog; do
        [[ "$f" == *-r[0-9]*.hlog && "$f" != *-r1.hlog ]] && continue   # rounds: the first one is plotted
        [[ -s "$f" ]] && hlogs+=("$f")
    done
    ((${#hlogs[@]} > 0)) || return 0
    if ! command -v gnuplot > /dev/null; then
        log "gnuplot not found: no latency plot (apt-get install gnuplot-nox to get one)"
        return 0
    fi
    for f in "${hlogs[@]}"; do
        name="$(basename "$f" .hlog)"
        # whole-run percentile distribution, values converted from ns to us
        java -cp "$LOADGEN_CP" org.HdrHistogram.HistogramLogProcessor -i "$f" -o "$RESULTS_DIR/$name" \
            -outputValueUnitRatio 1000 > /dev/null 2>&1 || { log "HistogramLogProcessor failed on $f"; continue; }
        # keep the data rows: value percentile count 1/(1-percentile)
        awk '$1 ~ /^[0-9.]+$/ && NF == 4 && $2 < 1 { print $1, $4 }' "$RESULTS_DIR/$name.hgrm" > "$RESULTS_DIR/$name.dat"
        [[ -s "$RESULTS_DIR/$name.dat" ]] && series+=("'$RESULTS_DIR/$name.dat' using 2:1 with lines lw 2 title '$name'")
    done
    ((${#series[@]} > 0)) || return 0
    local IFS=,
    rm -f "$PLOT"
    gnuplot <<GP || { log "gnuplot failed; no plot"; rm -f "$PLOT"; }
set terminal pngcairo size 1200,700 noenhanced
set output '$PLOT'
set title 'End-to-end latency by percentile (paced, coordinated-omission corrected), $DATE $HOST'
set logscale x
set logscale y
set xlabel 'percentile'
set ylabel 'latency (us)'
set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000)
set grid
set key top left
plot ${series[*]}
GP
    [[ -f "$PLOT" ]] && log "latency plot: $PLOT"
}

main "$@"
