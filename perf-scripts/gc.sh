#!/usr/bin/env bash
# Garbage collector choice for Skylark: the steady fan-in paced at half the broker's flat-out rate, run under G1,
# ZGC and Parallel GC in turn (a fresh broker each, GC log kept), and per collector the young and old collections
# and pauses during the measured window, p99 / p99.9 latency, throughput, broker CPU and RSS. Zero-GC shows as 0
# young collections in the window. Writes perf-scripts/results/gc-<date>-<host>.md.
#
#   perf-scripts/gc.sh                                  # build, calibrate, G1 / ZGC / Parallel for 60 s each
#   DURATION=120s GCS="g1 zgc" perf-scripts/gc.sh
#   RATE=400000 SKIP_BUILD=1 perf-scripts/gc.sh         # no calibration run: pace at this rate
#   SMOKE=1 perf-scripts/gc.sh                          # CI: seconds per collector, report in $TMPDIR
#
# Environment: GCS="g1 zgc parallel" DURATION=60s WARMUP=10s CALIBRATE=10s RATE=<msgs/s, default half of a
#   flat-out calibration run> PUBLISHERS=4 PAYLOAD=64 QOS=0 MQTT_VERSION=3 MAX_OUTSTANDING=10000
#   HEAP="-Xms1g -Xmx1g" (broker heap, the same for every collector) SKYLARK_JAVA_OPTS="" (more broker JVM options)
#   SKYLARK_ARGS="" SKIP_BUILD=0 REPORT=<file> SMOKE=0 SKYLARK_JAR=broker/target/skylark.jar JAVA_OPTS=""
#   LOADGEN_CP=benchmarks/target/benchmarks.jar
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG_TAG=gc
# shellcheck source=perf-scripts/lib.sh
source "$ROOT/perf-scripts/lib.sh"

SMOKE="${SMOKE:-0}"
if [[ "$SMOKE" == 1 ]]; then
    DURATION="${DURATION:-2s}"
    WARMUP="${WARMUP:-1s}"
    CALIBRATE="${CALIBRATE:-1s}"
    HEAP="${HEAP:--Xms256m -Xmx256m}"
    SKIP_BUILD="${SKIP_BUILD:-1}"
fi
GCS="${GCS:-g1 zgc parallel}"
DURATION="${DURATION:-60s}"
WARMUP="${WARMUP:-10s}"
CALIBRATE="${CALIBRATE:-10s}"
RATE="${RATE:-}"
PUBLISHERS="${PUBLISHERS:-4}"
PAYLOAD="${PAYLOAD:-64}"
QOS="${QOS:-0}"
MQTT_VERSION="${MQTT_VERSION:-3}"
MAX_OUTSTANDING="${MAX_OUTSTANDING:-10000}"
HEAP="${HEAP:--Xms1g -Xmx1g}"
SKYLARK_JAVA_OPTS="${SKYLARK_JAVA_OPTS:-}"
SKYLARK_ARGS="${SKYLARK_ARGS:-}"
SKIP_BUILD="${SKIP_BUILD:-0}"
SKYLARK_JAR="${SKYLARK_JAR:-$ROOT/broker/target/skylark.jar}"
JAVA_OPTS="${JAVA_OPTS:-}"
LOADGEN_CP="${LOADGEN_CP:-$ROOT/benchmarks/target/benchmarks.jar}"
WS_PATH=/mqtt
BASE_JAVA_OPTS="$SKYLARK_JAVA_OPTS"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/skylark-gc.XXXXXX")"
BROKER_PID=""
HOST="$(hostname -s 2>/dev/null || hostname)"
DATE="$(date +%Y-%m-%d)"
RESULTS_DIR="$ROOT/perf-scripts/results/raw/gc-$DATE-$HOST"
if [[ "$SMOKE" == 1 ]]; then
    RESULTS_DIR="$WORK/raw"
    REPORT="${REPORT:-${TMPDIR:-/tmp}/skylark-gc-smoke-$DATE.md}"
fi
REPORT="${REPORT:-$ROOT/perf-scripts/results/gc-$DATE-$HOST.md}"
declare -A RESULT=() GC_STATS=() RSS=()

cleanup() {
    stop_broker
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gc_flags() {
    case "$1" in
        g1) echo "-XX:+UseG1GC" ;;
        zgc) echo "-XX:+UseZGC" ;;
        parallel) echo "-XX:+UseParallelGC" ;;
        *) log "unknown collector: $1 (g1, zgc, parallel)"; return 1 ;;
    esac
}

# run_load <name> <extra load generator arguments...>: fan-in against the running broker; sets LINE.
run_load() {
    local name="$1" out rc=0
    shift
    # shellcheck disable=SC2086
    out="$(java $JAVA_OPTS -cp "$LOADGEN_CP" dev.skylark.benchmarks.load.LoadGenerator --broker skylark \
        --host 127.0.0.1 --port "$PORT" --publishers "$PUBLISHERS" --payload "$PAYLOAD" --qos "$QOS" \
        --mqtt-version "$MQTT_VERSION" --max-outstanding "$MAX_OUTSTANDING" --broker-pid "$BROKER_PID" --quiet \
        "$@" 2>&1)" || rc=$?
    printf '%s\n' "$out" > "$RESULTS_DIR/$name.out"
    LINE="$(grep '^RESULT ' <<< "$out" || true)"
    if [[ -z "$LINE" || $rc != 0 ]]; then
        log "$name: load generator exited $rc:"
        printf '%s\n' "$out" >&2
        [[ -n "$LINE" ]] || LINE=FAILED
    fi
}

# start <gc name> <run name>: a fresh Skylark (empty data directory) with that collector, its heap and a GC log
# (epoch-ms time stamps, to match the load generator's measured window).
start() {
    local gc="$1" name="$2" attempt
    rm -rf "$WORK/skylark-data"
    SKYLARK_JAVA_OPTS="$(gc_flags "$gc") $HEAP -Xlog:gc,gc+phases:file=$RESULTS_DIR/gc-$name.log:timemillis,uptime,tags $BASE_JAVA_OPTS"
    for attempt in 1 2 3; do
        PORT="$(free_port)"
        log "skylark ($gc) on 127.0.0.1:$PORT"
        start_skylark "$PORT" && return 0
        stop_broker
    done
    log "skylark did not start after 3 attempts"
    exit 1
}

# gc_stats <log> <start ms> <end ms>: "young old pauses pause_total_ms pause_max_ms" of the collections whose lines
# fall in the window. Young: G1/Parallel young pauses (not G1 mixed). Old: G1 concurrent mark cycles, mixed and full
# collections; Parallel full collections; ZGC cycles (ZGC on JDK 17 has one generation: every cycle is whole-heap,
# concurrent). Pauses: every "Pause ..." line with a duration (ZGC's from gc+phases).
gc_stats() {
    awk -v from="$2" -v to="$3" '
        match($0, /^\[[^]]*\]\[[0-9]+ms\]/) {
            t = substr($0, RSTART, RLENGTH); sub(/^\[[^]]*\]\[/, "", t); sub(/ms\]$/, "", t); t += 0
            if (t < from || t > to) next
            id = ""
            if (match($0, /GC\([0-9]+\)/)) id = substr($0, RSTART, RLENGTH)
            gcline = ($0 ~ /\]\[gc *\]/)
            if (gcline && /Pause Young/ && !/\(Mixed\)/) { if (!(id in young)) { young[id] = 1; ny++ } }
            else if (gcline && (/Pause Young \(Mixed\)/ || /Pause Full/ || /Concurrent Mark Cycle/ || /Garbage Collection \(/)) {
                if (!(id in old)) { old[id] = 1; no++ }
            }
            if (/Pause / && match($0, /[0-9.]+ms$/)) {
                p = substr($0, RSTART, RLENGTH - 2) + 0; np++; total += p; if (p > max) max = p
            }
        }
        END { printf "%d %d %d %.1f %.1f\n", ny, no, np, total, max }' "$1"
}

main() {
    [[ -f "$SKYLARK_JAR" || "$SKIP_BUILD" != 1 ]] || { log "missing $SKYLARK_JAR (build first)"; exit 1; }
    local gc
    for gc in $GCS; do gc_flags "$gc" > /dev/null; done
    if [[ "$SKIP_BUILD" != 1 ]]; then
        log "building (mvn -B -q -DskipTests package)"
        (cd "$ROOT" && mvn -B -q -DskipTests package)
    fi
    mkdir -p "$RESULTS_DIR" "$(dirname "$REPORT")"
    LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

    local rate_note
    if [[ -z "$RATE" ]]; then
        # Calibration under the JVM's default collector: the flat-out rate, then half of it for every collector.
        start g1 calibrate
        run_load calibrate --duration "$CALIBRATE" --warmup "$WARMUP"
        stop_broker
        [[ "$LINE" != FAILED ]] || { log "calibration failed"; exit 1; }
        CALIBRATION="$LINE"
        RATE="$(awk -v r="$(field "$LINE" rate_msgs_s)" 'BEGIN { printf "%d", r / 2 }')"
        ((RATE > 0)) || { log "calibration measured no throughput"; exit 1; }
        rate_note="half of the flat-out rate measured first ($(field "$LINE" rate_msgs_s) msgs/s, G1, $CALIBRATE)"
        log "pacing at $RATE msgs/s ($rate_note)"
    else
        rate_note="given (RATE)"
    fi

    for gc in $GCS; do
        start "$gc" "$gc"
        run_load "$gc" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" --hlog "$RESULTS_DIR/$gc.hlog"
        RESULT[$gc]="$LINE"
        # resident memory once the window is over, split: ZGC maps its heap three times, so its VmRSS counts
        # heap pages up to three times; RssAnon + RssShmem / 3 is closer for it.
        RSS[$gc]="$(process_rss "$BROKER_PID")"
        stop_broker
        if [[ "$LINE" != FAILED ]]; then
            GC_STATS[$gc]="$(gc_stats "$RESULTS_DIR/gc-$gc.log" "$(field "$LINE" measure_start_ms)" \
                "$(field "$LINE" measure_end_ms)")"
            log "$gc: young/old/pauses/total ms/max ms ${GC_STATS[$gc]}; $(field "$LINE" rate_msgs_s) msgs/s," \
                "p99 $(field "$LINE" p99_us) us, p99.9 $(field "$LINE" p999_us) us"
        fi
    done

    write_report "$rate_note"
    cat "$REPORT"
    log "written to $REPORT (GC logs, histogram logs and raw output in $RESULTS_DIR)"
}

# process_rss <pid>: "VmRSS RssAnon RssShmem" in kB (zeros when unknown).
process_rss() {
    if [[ -r "/proc/$1/status" ]]; then
        awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssShmem:/ { s = $2 } END { printf "%d %d %d", r, a, s }' \
            "/proc/$1/status"
    else
        echo "0 0 0"
    fi
}

write_report() {
    local rate_note="$1" gc line young old pauses total max vmrss anon shmem
    {
        local title="# Skylark garbage collectors, $DATE on $HOST"
        [[ "$SMOKE" == 1 ]] && title+=" (SMOKE run: seconds per collector, figures meaningless)"
        echo "$title"
        echo
        echo "- cpu: $(nproc) x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); java: $(java -version 2>&1 | head -1)"
        echo "- load average before the run: $LOAD_BEFORE (other work on the machine skews figures)"
        echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "- load: fan-in, $PUBLISHERS publishers -> 1 subscriber on devices/+/telemetry, QoS $QOS, payload $PAYLOAD B," \
            "MQTT $MQTT_VERSION, paced at $RATE msgs/s ($rate_note); warm-up $WARMUP, measured $DURATION"
        echo "- broker JVM: $HEAP${BASE_JAVA_OPTS:+ $BASE_JAVA_OPTS} plus the collector flag; defaults otherwise" \
            "(durability os, auth none)"
        echo "- collections counted in the measured window from the GC log (-Xlog:gc,gc+phases): young = G1/Parallel" \
            "young pauses (zero-GC: 0); old = G1 concurrent mark cycles, mixed and full collections, Parallel full" \
            "collections, ZGC cycles (JDK 17 ZGC has one generation, every cycle is whole-heap and concurrent);" \
            "pauses = every stop-the-world pause with its time, total / longest"
        echo "- latency from the intended send time (coordinated-omission corrected); broker CPU = cores used in the" \
            "window (GC threads included); RSS after the window: VmRSS (ZGC maps its heap three times: its VmRSS" \
            "counts heap pages up to three times) and RssAnon"
        echo
        echo "| GC | young GCs | old GCs | pauses (count, total / max ms) | p99 (us) | p99.9 (us) | max (us) | msgs/s | broker CPU (cores) | VmRSS / RssAnon (MiB) |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for gc in $GCS; do
            line="${RESULT[$gc]:-FAILED}"
            if [[ "$line" == FAILED ]]; then
                echo "| $gc | FAILED | | | | | | | | |"
                continue
            fi
            read -r young old pauses total max <<< "${GC_STATS[$gc]}"
            read -r vmrss anon shmem <<< "${RSS[$gc]}"
            echo "| $gc ($(gc_flags "$gc")) | $young | $old | $pauses, $total / $max | $(field "$line" p99_us) |" \
                "$(field "$line" p999_us) | $(field "$line" max_us) | $(field "$line" rate_msgs_s) |" \
                "$(field "$line" broker_cpu) | $((vmrss / 1024)) / $((anon / 1024)) |"
        done
        echo
        echo '```'
        [[ -n "${CALIBRATION:-}" ]] && echo "$CALIBRATION"
        for gc in $GCS; do
            echo "${RESULT[$gc]:-FAILED} gc=$gc"
        done
        echo '```'
    } > "$REPORT"
}

main "$@"
