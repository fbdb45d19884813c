#!/usr/bin/env bash
# Runs the same scenarios (fan-in, fan-out, p2p, idle connections) against Mosquitto and Skylark, one broker after
# the other, and prints a table of every figure for both plus the Skylark/Mosquitto ratio; also writes it to
# perf-scripts/results/<date>-<host>.md, with a latency-percentile plot of the paced runs when gnuplot is installed.
#
# Environment (short defaults; see perf-scripts/README.md):
#   DURATION=5s WARMUP=1s PUBLISHERS=4 RATE=20000 PAYLOAD=64 INFLIGHT=16 MQTT_VERSION=3 THREADS=2
#   FANOUT_SUBSCRIBERS=100 FANOUT_RATE=1000 P2P_PAIRS=4 CONNECTIONS=5000 CONNECTIONS_HOLD=3s SOURCE_ADDRESSES=4
#   MAX_OUTSTANDING=10000 SCENARIOS="..." REPORT=<file> SMOKE=0  WS_PATH=/mqtt
#   (opt-in scenario qos0-flat-ws: fan-in QoS 0 flat out over WebSocket; Mosquitto gets a websockets listener)
#   BROKERS="mosquitto skylark"  SKIP_BUILD=0  MOSQUITTO=<path>  SKYLARK_JAR=broker/target/skylark.jar
#   SKYLARK_ARGS=""  (extra arguments after -jar, e.g. a sub-command)  JAVA_OPTS=""  (load generator JVM)
#   LOADGEN_CP=benchmarks/target/benchmarks.jar  (class path of the load generator)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SMOKE="${SMOKE:-0}"
if [[ "$SMOKE" == 1 ]]; then
    # CI mode: tiny durations and few connections, no build, a report outside results/; well under a minute.
    DURATION="${DURATION:-1s}"
    WARMUP="${WARMUP:-0.3s}"
    RATE="${RATE:-2000}"
    FANOUT_SUBSCRIBERS="${FANOUT_SUBSCRIBERS:-10}"
    FANOUT_RATE="${FANOUT_RATE:-200}"
    CONNECTIONS="${CONNECTIONS:-200}"
    CONNECTIONS_HOLD="${CONNECTIONS_HOLD:-0.5s}"
    SKIP_BUILD="${SKIP_BUILD:-1}"
    SCENARIOS="${SCENARIOS:-qos0-flat qos1-paced fanout-flat connections}"
fi
DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-1s}"
PUBLISHERS="${PUBLISHERS:-4}"
RATE="${RATE:-20000}"
FANOUT_SUBSCRIBERS="${FANOUT_SUBSCRIBERS:-100}"
FANOUT_RATE="${FANOUT_RATE:-1000}"
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
BROKERS="${BROKERS:-mosquitto skylark}"
SKIP_BUILD="${SKIP_BUILD:-0}"
MOSQUITTO="${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}"
SKYLARK_JAR="${SKYLARK_JAR:-$ROOT/broker/target/skylark.jar}"
SKYLARK_ARGS="${SKYLARK_ARGS:-}"
JAVA_OPTS="${JAVA_OPTS:-}"
LOADGEN_CP="${LOADGEN_CP:-$ROOT/benchmarks/target/benchmarks.jar}"
PORT_TIMEOUT_S=20
# Every process here may hold at most 20,000 open files; the load generator raises no limit, so it needs its
# connections plus ~100 descriptors of its own (JVM, jars, selector) below the soft limit.
FD_LIMIT="$(ulimit -Sn)"

# scenario name -> load generator arguments (given after the common ones, so they override them)
read -r -a SCENARIOS <<< "${SCENARIOS:-qos0-flat qos1-flat qos0-paced qos1-paced fanout-flat fanout-paced p2p-qos1-flat connections}"
declare -A SCENARIO_ARGS=(
    [qos0-flat]="--qos 0"
    [qos0-flat-ws]="--qos 0 --transport ws --ws-path $WS_PATH"
    [qos1-flat]="--qos 1"
    [qos0-paced]="--qos 0 --rate $RATE"
    [qos1-paced]="--qos 1 --rate $RATE"
    [fanout-flat]="--scenario fan-out --publishers 1 --subscribers $FANOUT_SUBSCRIBERS --qos 0"
    [fanout-paced]="--scenario fan-out --publishers 1 --subscribers $FANOUT_SUBSCRIBERS --qos 0 --rate $FANOUT_RATE"
    [p2p-qos1-flat]="--scenario p2p --publishers $P2P_PAIRS --qos 1"
    [connections]="--scenario connections --connections $CONNECTIONS --source-addresses $SOURCE_ADDRESSES --duration $CONNECTIONS_HOLD --warmup 1s"
)
METRICS=(rate_msgs_s sent_msgs_s lost p50_us p99_us p999_us max_us)
CONNECTION_METRICS=(ready rate_conn_s rss_before_kb rss_held_kb bytes_per_conn)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/skylark-compare.XXXXXX")"
chmod 755 "$WORK"   # mosquitto drops privileges when started as root
BROKER_PID=""
declare -A RESULT=()
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

log() { printf '[compare] %s\n' "$*" >&2; }

stop_broker() {
    if [[ -n "$BROKER_PID" ]] && kill -0 "$BROKER_PID" 2>/dev/null; then
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

cleanup() {
    stop_broker
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    local port tries
    for tries in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
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
            log "$name exited before listening on port $port; its log:"
            cat "$WORK/$name.log" >&2 || true
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "$name did not listen on port $port within ${PORT_TIMEOUT_S}s"
            return 1
        fi
        sleep 0.05
    done
}

# start_mosquitto <port> [<websocket port>]
start_mosquitto() {
    local port="$1" ws_port="${2:-}"
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
    if [[ -n "$ws_port" ]]; then
        # MQTT over WebSocket (needs a mosquitto built with libwebsockets; it ignores the request path)
        printf 'listener %s 127.0.0.1\nprotocol websockets\n' "$ws_port" >> "$WORK/mosquitto.conf"
    fi
    "$MOSQUITTO" -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.log" 2>&1 &
    BROKER_PID=$!
    wait_port "$port" "$BROKER_PID" mosquitto || return 1
    [[ -z "$ws_port" ]] || wait_port "$ws_port" "$BROKER_PID" mosquitto
}

# start_skylark <port> [<HTTP/WebSocket port>]
start_skylark() {
    local port="$1" ws_port="${2:-}"
    mkdir -p "$WORK/skylark-data"
    # shellcheck disable=SC2086
    # the same queue depth and in-flight window as the Mosquitto config above
    java -Dskylark.mqtt.port="$port" -Dskylark.http.port="${ws_port:-0}" -Dskylark.auth.mode=none \
        -Dskylark.ws.path="$WS_PATH" -Dskylark.queue.max.messages=1000000 -Dskylark.inflight.max=100 \
        -Dskylark.data.dir="$WORK/skylark-data" -jar "$SKYLARK_JAR" $SKYLARK_ARGS > "$WORK/skylark.log" 2>&1 &
    BROKER_PID=$!
    wait_port "$port" "$BROKER_PID" skylark || return 1
    [[ -z "$ws_port" ]] || wait_port "$ws_port" "$BROKER_PID" skylark
}

field() { # field <RESULT line> <key>
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< " $1"
}

# run_scenario <broker> <port> <scenario>
run_scenario() {
    local broker="$1" port="$2" scenario="$3" out rc=0 line
    # shellcheck disable=SC2086
    out="$(java $JAVA_OPTS -cp "$LOADGEN_CP" dev.skylark.benchmarks.load.LoadGenerator \
        --broker "$broker" --host 127.0.0.1 --port "$port" --publishers "$PUBLISHERS" --payload "$PAYLOAD" \
        --duration "$DURATION" --warmup "$WARMUP" --inflight "$INFLIGHT" --mqtt-version "$MQTT_VERSION" \
        --threads "$THREADS" --quiet --hlog "$RESULTS_DIR/$broker-$scenario.hlog" \
        --max-outstanding "$MAX_OUTSTANDING" --broker-pid "$BROKER_PID" \
        ${SCENARIO_ARGS[$scenario]} 2>&1)" || rc=$?
    printf '%s\n' "$out" > "$RESULTS_DIR/$broker-$scenario.out"
    [[ -s "$RESULTS_DIR/$broker-$scenario.hlog" ]] || rm -f "$RESULTS_DIR/$broker-$scenario.hlog"
    line="$(grep '^RESULT ' <<< "$out" || true)"
    if [[ -z "$line" ]]; then
        log "$broker $scenario failed (exit $rc):"
        printf '%s\n' "$out" >&2
        RESULT[$broker,$scenario]="FAILED"
        return 0
    fi
    ((rc == 0)) || log "$broker $scenario exited $rc (figures kept): $(grep '^error' <<< "$out" || true)"
    RESULT[$broker,$scenario]="$line"
    printf '%s\n' "$line" >&2
}

ratio() { # ratio <skylark> <mosquitto>
    awk -v s="$1" -v m="$2" 'BEGIN {
        if (s ~ /^-?[0-9.]+$/ && m ~ /^-?[0-9.]+$/ && m + 0 != 0) printf "%.2f", s / m; else print "-" }'
}

main() {
    [[ -x "$MOSQUITTO" ]] || { log "mosquitto not found (set MOSQUITTO=/path/to/mosquitto)"; exit 1; }
    if [[ "$SKIP_BUILD" != 1 ]]; then
        log "building (mvn -B -q -DskipTests package)"
        (cd "$ROOT" && mvn -B -q -DskipTests package)
    fi
    [[ -n "$LOADGEN_CP" && ( "$LOADGEN_CP" == *:* || -e "$LOADGEN_CP" ) ]] || { log "missing $LOADGEN_CP"; exit 1; }
    if [[ " ${SCENARIOS[*]} " == *" connections "* ]] && ((CONNECTIONS + 100 > FD_LIMIT)); then
        log "CONNECTIONS=$CONNECTIONS does not fit the open-files limit $FD_LIMIT (connections + 100 must); lower it"
        exit 1
    fi
    mkdir -p "$RESULTS_DIR" "$(dirname "$REPORT")"
    LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

    local ran=() broker port scenario ws_port mosquitto_ws=1
    for broker in $BROKERS; do
        case "$broker" in
            mosquitto) ;;
            skylark)
                if [[ ! -f "$SKYLARK_JAR" ]]; then
                    log "skipping Skylark: $SKYLARK_JAR not found (build the broker module first)"
                    continue
                fi
                ;;
            *) log "unknown broker: $broker"; exit 1 ;;
        esac
        # A fresh broker per scenario: a flat-out run leaves a backlog that would leak into the next one.
        for scenario in "${SCENARIOS[@]}"; do
            # *-ws scenarios: MQTT over WebSocket, to a second (HTTP/WebSocket) listener of the broker.
            ws_port=""
            if [[ "$scenario" == *-ws ]]; then
                if [[ "$broker" == mosquitto && "$mosquitto_ws" == 0 ]]; then
                    log "skipping mosquitto $scenario: this mosquitto has no WebSocket support"
                    continue
                fi
            fi
            # A port found free can be taken by another process before the broker binds it: try a few.
            local attempt
            for attempt in 1 2 3; do
                port="$(free_port)"
                [[ "$scenario" != *-ws ]] || ws_port="$(free_port)"
                log "$broker on 127.0.0.1:$port${ws_port:+ (WebSocket $ws_port$WS_PATH)}: $scenario"
                if "start_$broker" "$port" $ws_port; then
                    break
                fi
                stop_broker
                if [[ -n "$ws_port" && "$broker" == mosquitto ]] && grep -qi "websockets support not available" "$WORK/mosquitto.log"; then
                    # tried once: a build without libwebsockets refuses "protocol websockets"
                    log "skipping mosquitto $scenario: this mosquitto has no WebSocket support"
                    mosquitto_ws=0
                    continue 2
                fi
                if ((attempt == 3)); then
                    log "$broker did not start after $attempt attempts"
                    exit 1
                fi
            done
            run_scenario "$broker" "${ws_port:-$port}" "$scenario"
            stop_broker
        done
        ran+=("$broker")
    done

    local file="$REPORT"
    plot_latency

    {
        local title="# Skylark vs Mosquitto, $DATE on $HOST"
        [[ "$SMOKE" == 1 ]] && title+=" (SMOKE run: tiny durations, figures meaningless)"
        echo "$title"
        echo
        echo "- cpu: $(nproc) x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
        echo "- java: $(java -version 2>&1 | head -1); mosquitto: $("$MOSQUITTO" -h 2>&1 | sed -n 's/^mosquitto version //p' | head -1)"
        echo "- load average before the run: $LOAD_BEFORE (other work on the machine skews figures)"
        echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "- fan-in (qos*): $PUBLISHERS publishers -> 1 subscriber on devices/+/telemetry; fan-out: 1 publisher ->" \
            "$FANOUT_SUBSCRIBERS subscribers on one topic (paced at $FANOUT_RATE msgs/s = $((FANOUT_RATE * FANOUT_SUBSCRIBERS))" \
            "deliveries/s); p2p: $P2P_PAIRS publisher->subscriber pairs, QoS 1; payload $PAYLOAD B, MQTT $MQTT_VERSION," \
            "warm-up $WARMUP, measured $DURATION, flat-out in-flight window $INFLIGHT and at most $MAX_OUTSTANDING" \
            "deliveries outstanding, fan-in paced at $RATE msgs/s"
        [[ " ${SCENARIOS[*]} " == *"-ws "* ]] && echo "- *-ws scenarios: the same over MQTT over WebSocket" \
            "(binary frames, subprotocol mqtt, path $WS_PATH; masked client frames) to the broker's WebSocket listener"
        echo "- connections: $CONNECTIONS idle connections (CONNECT + SUBSCRIBE idle/<i>) from $SOURCE_ADDRESSES loopback" \
            "source addresses, held $CONNECTIONS_HOLD; bytes_per_conn = (broker VmRSS after the hold - before connecting) / ready"
        echo "- rate_msgs_s = deliveries arriving during the measured window (fan-out: all subscribers together);" \
            "latency in us (paced: from intended send time, coordinated-omission corrected; flat-out: queueing included);" \
            "ratio = skylark / mosquitto (higher is better for rates, lower for latency, loss and memory)"
        [[ -f "$PLOT" ]] && echo "- latency percentiles of the paced runs: $(basename "$PLOT")"
        echo
        echo "| scenario | metric | mosquitto | skylark | ratio |"
        echo "|---|---|---:|---:|---:|"
        local scenario metric m s
        for scenario in "${SCENARIOS[@]}"; do
            local metrics=("${METRICS[@]}")
            [[ "$scenario" == connections ]] && metrics=("${CONNECTION_METRICS[@]}")
            for metric in "${metrics[@]}"; do
                m="-"; s="-"
                [[ "${RESULT[mosquitto,$scenario]:-FAILED}" != FAILED ]] && m="$(field "${RESULT[mosquitto,$scenario]}" "$metric")"
                [[ "${RESULT[skylark,$scenario]:-FAILED}" != FAILED ]] && s="$(field "${RESULT[skylark,$scenario]}" "$metric")"
                [[ -n "${RESULT[mosquitto,$scenario]:-}" ]] || m="n/a"
                [[ -n "${RESULT[skylark,$scenario]:-}" ]] || s="n/a"
                echo "| $scenario | $metric | $m | $s | $(ratio "$s" "$m") |"
            done
        done
        echo
        echo '```'
        for broker in "${ran[@]}"; do
            for scenario in "${SCENARIOS[@]}"; do
                echo "${RESULT[$broker,$scenario]:-}"
            done
        done
        echo '```'
    } > "$file"

    cat "$file"
    log "written to $file (raw output and .hlog files in $RESULTS_DIR)"
}

# Latency percentile plot (HdrHistogram style, x = 1/(1-percentile)) of every paced run's histogram log.
plot_latency() {
    local hlogs=() f name series=()
    for f in "$RESULTS_DIR"/*-paced.hlog; do
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
    gnuplot <<GP || log "gnuplot failed; no plot"
set terminal pngcairo size 1200,700 noenhanced
set output '$PLOT'
set title 'End-to-end latency by percentile (paced, coordinated-omission corrected), $DATE $HOST'
set logscale x
set logscale y
set xlabel 'percentile'
set ylabel 'latency (us)'
set xtics ('0%' 1, '90%' 10, '99%' 100, '99.9%' 1000, '99.99%' 10000, '99.999%' 100000)
set grid
set key top left
plot ${series[*]}
GP
    [[ -f "$PLOT" ]] && log "latency plot: $PLOT"
}

main "$@"
