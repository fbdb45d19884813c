#!/usr/bin/env bash
# Durable QoS 1 ingest with NO broker tuning (issue #21): many QoS 1 publishers → one QoS 1 subscriber, or a $share
# group of SHARED_SUBSCRIBERS, with the journal on, the broker started with nothing but its port, anonymous access
# and a data directory. Alternating rounds over CONFIGS (each a broker configuration: name=extra -D arguments), so
# that the machine's drifting load hits every configuration alike; prints medians and spread per scenario.
#
#   perf-scripts/ingest-defaults.sh
#   ROUNDS=3 PUBLISHER_COUNTS="100 1000" INFLIGHTS="64 1" perf-scripts/ingest-defaults.sh
#   CONFIGS="old=-Dskylark.inflight.max=32 new=" DURABILITY=fsync perf-scripts/ingest-defaults.sh
#
# Environment: SKYLARK_JAR (broker/target/skylark.jar), LOADGEN_CP (benchmarks/target/benchmarks.jar), ROUNDS=3,
# DURABILITY=os, PUBLISHER_COUNTS="100 1000", INFLIGHTS="64 1", SUBSCRIBER_KINDS="one shared", SHARED_SUBSCRIBERS=4,
# PAYLOAD=64, DURATION=5s, WARMUP=3s, MAX_OUTSTANDING=10000 (as compare.sh), THREADS=2, CONFIGS="defaults=",
# SKYLARK_JAVA_OPTS, REPORT (perf-scripts/results/ingest-<date>-<host>-<durability>.md). JAR_<config name> runs that
# configuration with another build (A/B of two jars: CONFIGS="before= after=" JAR_before=/tmp/old/skylark.jar).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SKYLARK_JAR="${SKYLARK_JAR:-$ROOT/broker/target/skylark.jar}"
LOADGEN_CP="${LOADGEN_CP:-$ROOT/benchmarks/target/benchmarks.jar}"
ROUNDS="${ROUNDS:-3}"
DURABILITY="${DURABILITY:-os}"
PUBLISHER_COUNTS="${PUBLISHER_COUNTS:-100 1000}"
INFLIGHTS="${INFLIGHTS:-64 1}"
SUBSCRIBER_KINDS="${SUBSCRIBER_KINDS:-one shared}"
SHARED_SUBSCRIBERS="${SHARED_SUBSCRIBERS:-4}"
PAYLOAD="${PAYLOAD:-64}"
DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-3s}"
MAX_OUTSTANDING="${MAX_OUTSTANDING:-10000}"
THREADS="${THREADS:-2}"
CONFIGS="${CONFIGS:-defaults=}"
DATE="$(date -u +%Y-%m-%d)"
REPORT="${REPORT:-$ROOT/perf-scripts/results/ingest-$DATE-$(hostname -s)-$DURABILITY.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/skylark-ingest.XXXXXX")"
BROKER_PID=""
LOG_TAG=ingest
# shellcheck source=perf-scripts/lib.sh
source "$ROOT/perf-scripts/lib.sh"
trap 'stop_broker; rm -rf "$WORK"' EXIT

[[ -f "$SKYLARK_JAR" ]] || { log "no $SKYLARK_JAR: mvn -o -q -pl broker,benchmarks -am package -DskipTests"; exit 1; }
[[ -f "$LOADGEN_CP" ]] || { log "no $LOADGEN_CP"; exit 1; }

# start <jar> <port> <extra args...>: a fresh broker with the journal on and nothing tuned.
start() {
    local jar="$1" port="$2"; shift 2
    rm -rf "$WORK/data"; mkdir -p "$WORK/data"
    # shellcheck disable=SC2086
    java ${SKYLARK_JAVA_OPTS:-} -Dskylark.mqtt.port="$port" -Dskylark.http.port=0 -Dskylark.auth.mode=none \
        -Dskylark.durability="$DURABILITY" -Dskylark.data.dir="$WORK/data" "$@" -jar "$jar" \
        > "$WORK/skylark.log" 2>&1 &
    BROKER_PID=$!
    wait_port "$port" "$BROKER_PID" skylark
}

: > "$WORK/all"
for ((round = 1; round <= ROUNDS; round++)); do
    for publishers in $PUBLISHER_COUNTS; do
        for inflight in $INFLIGHTS; do
            for kind in $SUBSCRIBER_KINDS; do
                for config in $CONFIGS; do
                    name="${config%%=*}"
                    read -r -a extra <<< "${config#*=}"
                    sub_args=(--subscribers 1)
                    [[ "$kind" == shared ]] && sub_args=(--subscribers "$SHARED_SUBSCRIBERS" --shared-group backends)
                    port="$(free_port)"
                    jar_var="JAR_$name"
                    start "${!jar_var:-$SKYLARK_JAR}" "$port" ${extra[@]+"${extra[@]}"} || { stop_broker; continue; }
                    out="$(java -cp "$LOADGEN_CP" dev.skylark.benchmarks.load.LoadGenerator --broker skylark \
                        --host 127.0.0.1 --port "$port" --publishers "$publishers" --qos 1 --payload "$PAYLOAD" \
                        --duration "$DURATION" --warmup "$WARMUP" --inflight "$inflight" --threads "$THREADS" \
                        --quiet --max-outstanding "$MAX_OUTSTANDING" --broker-pid "$BROKER_PID" \
                        "${sub_args[@]}" 2>&1)" || true
                    stop_broker
                    line="$(grep '^RESULT ' <<< "$out" || true)"
                    if [[ -z "$line" ]]; then
                        log "round $round $name p=$publishers w=$inflight $kind: no RESULT"; printf '%s\n' "$out" | tail -5 >&2
                        continue
                    fi
                    printf 'RESULT config=%s round=%d window=%s kind=%s %s\n' "$name" "$round" "$inflight" "$kind" \
                        "${line#RESULT }" >> "$WORK/all"
                    log "round $round $name p=$publishers w=$inflight $kind: $(field "$line" rate_msgs_s) msgs/s," \
                        "sent $(field "$line" sent_msgs_s)/s, lost $(field "$line" lost)," \
                        "$(field "$line" broker_cpu_us_per_msg) µs CPU/msg, load $(cut -d' ' -f1 /proc/loadavg)"
                done
            done
        done
    done
done

{
    echo "# Durable QoS 1 ingest, no tuning ($DATE, $(hostname -s), durability=$DURABILITY)"
    echo
    echo "QoS 1 publishers → 1 QoS 1 subscriber (\`one\`) or a \`\$share\` group of $SHARED_SUBSCRIBERS (\`shared\`)," \
        "$PAYLOAD B payloads, MQTT 3.1.1, $ROUNDS alternating rounds of $DURATION after $WARMUP warm-up," \
        "load generator --max-outstanding $MAX_OUTSTANDING --threads $THREADS. Configurations: \`$CONFIGS\`." \
        "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores."
    echo
    python3 - "$WORK/all" <<'EOF'
import sys, statistics, collections
rows = collections.defaultdict(lambda: collections.defaultdict(list))
order = []
for line in open(sys.argv[1]):
    f = dict(kv.split('=', 1) for kv in line.split()[1:] if '=' in kv)
    key = (int(f['publishers']), int(f['window']), f['kind'], f['config'])
    if key not in order:
        order.append(key)
    for m in ('rate_msgs_s', 'sent_msgs_s', 'lost', 'broker_cpu_us_per_msg', 'p50_us', 'p99_us'):
        rows[key][m].append(float(f[m]))
def fmt(values, digits=0):
    med = statistics.median(values)
    return f"{med:,.{digits}f} ({min(values):,.{digits}f}..{max(values):,.{digits}f})"
print("| publishers | window | subscribers | config | delivered msgs/s median (min..max) | acknowledged msgs/s | lost (sum) | broker µs CPU/msg | p50 / p99 µs |")
print("|---:|---:|---|---|---:|---:|---:|---:|---:|")
for key in order:
    r = rows[key]
    print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {fmt(r['rate_msgs_s'])} | {fmt(r['sent_msgs_s'])} | "
          f"{int(sum(r['lost']))} | {statistics.median(r['broker_cpu_us_per_msg']):.2f} | "
          f"{statistics.median(r['p50_us']):,.0f} / {statistics.median(r['p99_us']):,.0f} |")
print()
print("Raw RESULT lines:")
print()
print("```")
for line in open(sys.argv[1]):
    print(line.rstrip())
print("```")
EOF
} > "$REPORT"
log "report: $REPORT"
