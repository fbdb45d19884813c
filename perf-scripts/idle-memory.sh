#!/usr/bin/env bash
# Memory per idle connection (issue #21): starts Skylark with its default settings (journal on; only the ports, the
# data directory and skylark.auth.mode=none are set), reads its VmRSS after a full GC (jcmd GC.run) with 0
# connections, opens CONNECTIONS idle connections with the load generator (each CONNECT + SUBSCRIBE idle/<i>, from
# SOURCE_ADDRESSES loopback addresses, in its own JVM), waits until every one is subscribed, runs a full GC again and
# reads VmRSS once more:
#
#   bytes_per_conn = (VmRSS with N - VmRSS with 0) / N
#
# With HISTOGRAM=1 (default) it also takes a class histogram (jcmd GC.class_histogram) at 0 and at N connections and
# prints the classes that grew, in bytes per connection; with NMT=1 the broker runs with
# -XX:NativeMemoryTracking=summary and the report gets the native-memory diff between the two points (heap, threads,
# direct buffers under "Other"), which is where the RSS beyond the Java heap goes.
#
# Environment:
# The figure is the cold one the issue defines (a fresh broker, then N connections). It includes one-time costs of
# a JVM that has not run the connect path yet: the C2 compiler's arenas are malloc'ed and glibc keeps freed ones
# resident, so when the JVM offers it (17.0.9+) jcmd System.trim_native_heap follows every GC.run (TRIM=0: not).
# WARMUP=1 opens the same connections once and closes them before the 0 reading: that removes the JIT but leaves the
# heap regions the warm-up touched resident at 0, so it reads low; read it as a lower bound.
#
# With SMAPS=1 (default) the report also lists the memory mappings whose resident size grew most (from
# /proc/<pid>/smaps): the Java heap, malloc arenas, and the memory-mapped rings, Aeron log buffers and journal files,
# whose pages count in RSS once touched however many connections there are.
#
# Environment:
#   CONNECTIONS=19900 SOURCE_ADDRESSES=4 SETTLE_S=3 ROUNDS=1 HISTOGRAM=1 NMT=0 SMAPS=1 WARMUP=0 TRIM=1 HISTOGRAM_TOP=30
#   SKYLARK_JAR=broker/target/skylark.jar SKYLARK_JAVA_OPTS="" (broker JVM) SKYLARK_ARGS="" (after -jar)
#   JAVA_OPTS="" (load generator JVM)  LOADGEN_CP=benchmarks/target/benchmarks.jar  REPORT=<file> (default: stdout)
#
# Every process on the benchmark machine may hold at most 20,000 open files and this script raises no limit, so
# CONNECTIONS + 100 must stay below `ulimit -Sn` (19,900 at most there): the load generator holds one descriptor per
# connection plus its own, the broker the same.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG_TAG=idle-memory
# shellcheck source=perf-scripts/lib.sh
source "$ROOT/perf-scripts/lib.sh"

CONNECTIONS="${CONNECTIONS:-19900}"
SOURCE_ADDRESSES="${SOURCE_ADDRESSES:-4}"
SETTLE_S="${SETTLE_S:-3}"
ROUNDS="${ROUNDS:-1}"
HISTOGRAM="${HISTOGRAM:-1}"
HISTOGRAM_TOP="${HISTOGRAM_TOP:-30}"
NMT="${NMT:-0}"
SMAPS="${SMAPS:-1}"
WARMUP="${WARMUP:-0}"
TRIM="${TRIM:-1}"
SKYLARK_JAR="${SKYLARK_JAR:-$ROOT/broker/target/skylark.jar}"
SKYLARK_JAVA_OPTS="${SKYLARK_JAVA_OPTS:-}"
SKYLARK_ARGS="${SKYLARK_ARGS:-}"
JAVA_OPTS="${JAVA_OPTS:-}"
LOADGEN_CP="${LOADGEN_CP:-$ROOT/benchmarks/target/benchmarks.jar}"
REPORT="${REPORT:-}"
CONNECT_TIMEOUT_S="${CONNECT_TIMEOUT_S:-180}"

FD_LIMIT="$(ulimit -Sn)"
if ((CONNECTIONS + 100 > FD_LIMIT)); then
    log "CONNECTIONS=$CONNECTIONS does not fit the open-files limit $FD_LIMIT (connections + 100 must); lower it"
    exit 1
fi
[[ -f "$SKYLARK_JAR" ]] || { log "missing $SKYLARK_JAR (mvn -o -q -pl broker,benchmarks -am package -DskipTests)"; exit 1; }
[[ "$LOADGEN_CP" == *:* || -e "$LOADGEN_CP" ]] || { log "missing $LOADGEN_CP"; exit 1; }
command -v jcmd > /dev/null || { log "jcmd not found (a JDK's bin directory must be on PATH)"; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/skylark-idle-memory.XXXXXX")"
BROKER_PID=""
LOADGEN_PID=""

stop_loadgen() {
    if [[ -n "$LOADGEN_PID" ]] && kill -0 "$LOADGEN_PID" 2>/dev/null; then
        kill -TERM "$LOADGEN_PID" 2>/dev/null || true
        local deadline=$((SECONDS + 20))
        while kill -0 "$LOADGEN_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
        kill -KILL "$LOADGEN_PID" 2>/dev/null || true
        wait "$LOADGEN_PID" 2>/dev/null || true
    fi
    LOADGEN_PID=""
}
cleanup() {
    stop_loadgen
    stop_broker
    rm -rf "$WORK"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# smaps <pid> <file>: "rss_kb start-end name" per mapping
smaps() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { range = $1; name = (NF >= 6 ? $6 : "[anon]") }
        /^Rss:/ { print $2, range, name }' "/proc/$1/smaps" > "$2"
}

# smaps_diff <before> <after>: the mappings whose resident size grew most, by name (anonymous ones by address)
smaps_diff() {
    awk 'NR == FNR { b[$2] = $1; next } { d = $1 - b[$2]; if (d > 0) printf "%d\t%s\t%s\n", d, $3, $2 }' "$1" "$2" |
        sort -g -r | head -n 15 |
        awk -F'\t' -v n="$CONNECTIONS" 'BEGIN { print "| grew kB | B/conn | mapping |"; print "|---:|---:|---|" }
            { printf "| %d | %.0f | %s %s |\n", $1, $1 * 1024 / n, $2, $3 }'
    awk 'NR == FNR { b += $1; next } { a += $1 } END { printf "\nall mappings: %+d kB\n", a - b }' "$1" "$2"
}

# full_gc <pid>: a full collection (and a native-heap trim when TRIM=1 and the JVM has it), then a short pause for
# the RSS to follow (G1 uncommits after a full GC).
full_gc() {
    jcmd "$1" GC.run > /dev/null
    if [[ "$TRIM" == 1 ]] && jcmd "$1" help 2>/dev/null | grep -q System.trim_native_heap; then
        jcmd "$1" System.trim_native_heap > /dev/null
    fi
    sleep 1
}

# open_connections <port> <log>: starts the load generator holding CONNECTIONS idle connections (LOADGEN_PID) and
# waits until every one is subscribed.
open_connections() {
    local port="$1" log="$2" deadline
    # shellcheck disable=SC2086
    java $JAVA_OPTS -cp "$LOADGEN_CP" dev.skylark.benchmarks.load.LoadGenerator --broker skylark \
        --host 127.0.0.1 --port "$port" --scenario connections --connections "$CONNECTIONS" \
        --source-addresses "$SOURCE_ADDRESSES" --broker-pid "$BROKER_PID" --warmup 0s --duration 3600s \
        --connect-timeout "${CONNECT_TIMEOUT_S}s" > "$log" 2>&1 &
    LOADGEN_PID=$!
    deadline=$((SECONDS + CONNECT_TIMEOUT_S + 10))
    until grep -q "connections ready" "$log"; do
        if ! kill -0 "$LOADGEN_PID" 2>/dev/null || ((SECONDS >= deadline)); then
            log "the load generator did not get $CONNECTIONS connections subscribed; its log:"
            tail -n 20 "$log" >&2
            exit 1
        fi
        sleep 0.2
    done
}

# histogram <pid> <file>: "class bytes instances" per line (jcmd's own histogram runs a full GC first)
histogram() {
    jcmd "$1" GC.class_histogram | awk '$1 ~ /^[0-9]+:$/ { print $4, $3, $2 }' > "$2"
}

start_broker() {
    local port="$1" nmt=()
    [[ "$NMT" == 1 ]] && nmt=(-XX:NativeMemoryTracking=summary)
    mkdir -p "$WORK/data"
    # shellcheck disable=SC2086
    java ${SKYLARK_JAVA_OPTS} "${nmt[@]}" -Dskylark.mqtt.port="$port" -Dskylark.http.port=0 -Dskylark.auth.mode=none \
        -Dskylark.data.dir="$WORK/data" -jar "$SKYLARK_JAR" ${SKYLARK_ARGS} > "$WORK/skylark.log" 2>&1 &
    BROKER_PID=$!
    wait_port "$port" "$BROKER_PID" skylark
}

# one_round <round>: prints "rss0_kb rssN_kb ready bytes_per_conn"
one_round() {
    local round="$1" port rss0 rssN ready
    port="$(free_port)"
    start_broker "$port" || { log "broker did not start"; exit 1; }
    sleep "$SETTLE_S"
    if [[ "$WARMUP" == 1 ]]; then
        open_connections "$port" "$WORK/warmup-$round.log"
        stop_loadgen
        sleep "$SETTLE_S"
    fi
    full_gc "$BROKER_PID"
    [[ "$NMT" == 1 ]] && jcmd "$BROKER_PID" VM.native_memory baseline > /dev/null
    [[ "$HISTOGRAM" == 1 ]] && histogram "$BROKER_PID" "$WORK/histo0-$round"
    rss0="$(rss_kb "$BROKER_PID")"
    [[ "$SMAPS" == 1 ]] && smaps "$BROKER_PID" "$WORK/smaps0-$round"

    open_connections "$port" "$WORK/loadgen-$round.log"
    ready="$CONNECTIONS"
    sleep "$SETTLE_S"
    full_gc "$BROKER_PID"
    [[ "$HISTOGRAM" == 1 ]] && histogram "$BROKER_PID" "$WORK/histoN-$round"
    rssN="$(rss_kb "$BROKER_PID")"
    [[ "$SMAPS" == 1 ]] && smaps "$BROKER_PID" "$WORK/smapsN-$round"
    [[ "$NMT" == 1 ]] && jcmd "$BROKER_PID" VM.native_memory summary.diff > "$WORK/nmt-$round"
    grep -q "connections ready" "$WORK/loadgen-$round.log" && kill -0 "$LOADGEN_PID" 2>/dev/null ||
        { log "the load generator stopped during the measurement"; tail -n 20 "$WORK/loadgen-$round.log" >&2; exit 1; }
    stop_loadgen
    stop_broker
    echo "$rss0 $rssN $ready $(( (rssN - rss0) * 1024 / ready ))"
}

# histogram_diff <histo0> <histoN>: classes that grew, bytes and instances per connection
histogram_diff() {
    awk -v n="$CONNECTIONS" -v top="$HISTOGRAM_TOP" '
        NR == FNR { b0[$1] = $2; i0[$1] = $3; next }
        { db = $2 - b0[$1]; di = $3 - i0[$1]; if (db != 0) { d[$1] = db; c[$1] = di } total += $2 }
        END {
            for (k in b0) total0 += b0[k]
            printf "| class | bytes/conn | instances/conn |\n|---|---:|---:|\n"
            cmd = "sort -t\"\t\" -k2 -g -r"
            for (k in d) printf "%s\t%d\t%d\n", k, d[k], c[k] | cmd
            close(cmd)
        }' "$1" "$2" > "$WORK/diff.tsv"
    head -n 2 "$WORK/diff.tsv"
    tail -n +3 "$WORK/diff.tsv" | head -n "$HISTOGRAM_TOP" |
        awk -F'\t' -v n="$CONNECTIONS" '{ printf "| `%s` | %.1f | %.2f |\n", $1, $2 / n, $3 / n }'
    awk -v n="$CONNECTIONS" 'NR == FNR { t0 += $2; next } { t += $2 }
        END { printf "\nJava heap (live objects) grew by %.0f bytes per connection\n", (t - t0) / n }' "$1" "$2"
}

main() {
    local round line results=() per=()
    {
        echo "# Skylark: RSS per idle connection, $(date -u +%F) on $(hostname)"
        echo
        echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
        echo "- java: $(java -version 2>&1 | head -n 1); broker JVM options: ${SKYLARK_JAVA_OPTS:-none}"
        echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "- $CONNECTIONS idle connections (CONNECT + SUBSCRIBE idle/<i>, MQTT 3.1.1) from $SOURCE_ADDRESSES loopback"
        echo "  addresses; broker at default settings (journal on), auth.mode=none; VmRSS read after jcmd GC.run,"
        echo "  ${SETTLE_S}s after start and ${SETTLE_S}s after the last SUBACK; warm-up round (open and close them all"
        echo "  once before the 0 reading): $([[ "$WARMUP" == 1 ]] && echo yes || echo no); native heap trimmed after each GC: $([[ "$TRIM" == 1 ]] && echo "yes, when the JVM has System.trim_native_heap" || echo no)"
        echo
        echo "| round | rss_0_kb | rss_N_kb | connections | bytes_per_conn |"
        echo "|---:|---:|---:|---:|---:|"
    } > "$WORK/report"
    for ((round = 1; round <= ROUNDS; round++)); do
        log "round $round of $ROUNDS: $CONNECTIONS connections"
        line="$(one_round "$round")"
        log "round $round: rss0_kb rssN_kb connections bytes_per_conn = $line"
        read -r -a results <<< "$line"
        per+=("${results[3]}")
        echo "| $round | ${results[0]} | ${results[1]} | ${results[2]} | ${results[3]} |" >> "$WORK/report"
    done
    {
        echo
        echo "RESULT scenario=idle-memory broker=skylark connections=$CONNECTIONS rounds=$ROUNDS" \
            "bytes_per_conn_median=$(printf '%s\n' "${per[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
            "bytes_per_conn_all=$(IFS=,; echo "${per[*]}")"
        if [[ "$HISTOGRAM" == 1 ]]; then
            echo
            echo "## Heap: classes that grew between 0 and $CONNECTIONS connections (last round)"
            echo
            histogram_diff "$WORK/histo0-$ROUNDS" "$WORK/histoN-$ROUNDS"
        fi
        if [[ "$SMAPS" == 1 ]]; then
            echo
            echo "## Mappings whose resident size grew most between 0 and $CONNECTIONS connections (last round)"
            echo
            smaps_diff "$WORK/smaps0-$ROUNDS" "$WORK/smapsN-$ROUNDS"
        fi
        if [[ "$NMT" == 1 ]]; then
            echo
            echo "## Native memory tracking: diff between 0 and $CONNECTIONS connections (last round)"
            echo
            echo '```'
            sed -n '/^Total/,$p' "$WORK/nmt-$ROUNDS" | grep -E '^(Total|-|  *\(malloc|  *\(mmap)' | head -n 80
            echo '```'
        fi
    } >> "$WORK/report"
    if [[ -n "$REPORT" ]]; then
        cp "$WORK/report" "$REPORT"
        log "report: $REPORT"
    fi
    cat "$WORK/report"
}

main
