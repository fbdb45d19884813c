#!/usr/bin/env bash
# Compares two Skylark builds on the same machine: runs compare.sh for build A, then B, then A, ... (alternating
# rounds, so drift in the machine's load hits both alike) and prints, per scenario and metric, the median of each
# build, the spread (min..max) and the ratio B/A. Used to show that a change (a refactoring, say) left throughput and
# broker CPU per message within noise.
#
#   JAR_A=/path/to/before/skylark.jar JAR_B=broker/target/skylark.jar perf-scripts/ab.sh
#
# Environment: JAR_A, JAR_B (required), ROUNDS=3, SCENARIOS="qos0-flat qos1-flat fanout-flat", LOADGEN_CP (the same
# load generator drives both builds; default benchmarks/target/benchmarks.jar), METRICS="rate_msgs_s
# broker_cpu_us_per_msg p50_us p99_us", REPORT=<file> (default perf-scripts/results/ab-<date>-<host>.md); anything
# else compare.sh reads (DURATION, WARMUP, PUBLISHERS, ...) is passed through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${JAR_A:?set JAR_A to the first skylark.jar}"
: "${JAR_B:?set JAR_B to the second skylark.jar}"
ROUNDS="${ROUNDS:-3}"
SCENARIOS="${SCENARIOS:-qos0-flat qos1-flat fanout-flat}"
METRICS="${METRICS:-rate_msgs_s broker_cpu_us_per_msg p50_us p99_us}"
DATE="$(date -u +%Y-%m-%d)"
REPORT="${REPORT:-$ROOT/perf-scripts/results/ab-$DATE-$(hostname -s).md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/skylark-ab.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

for ((round = 1; round <= ROUNDS; round++)); do
    for side in A B; do
        jar="JAR_$side"
        echo "[ab] round $round/$ROUNDS, build $side (${!jar})" >&2
        BROKERS=skylark SKIP_BUILD=1 SKYLARK_JAR="${!jar}" SCENARIOS="$SCENARIOS" \
            REPORT="$WORK/$side-$round.md" "$ROOT/perf-scripts/compare.sh" > "$WORK/$side-$round.log" 2>&1 ||
            { echo "[ab] compare.sh failed, see below" >&2; tail -20 "$WORK/$side-$round.log" >&2; exit 1; }
        grep '^RESULT ' "$WORK/$side-$round.md" | sed "s/^RESULT /RESULT side=$side round=$round /" >> "$WORK/all"
    done
done

# One line per (side, scenario, metric) value, then medians with awk.
summary() {
    python3 - "$WORK/all" "$METRICS" <<'EOF'
import sys, statistics, collections
path, metrics = sys.argv[1], sys.argv[2].split()
values = collections.defaultdict(list)
order = []
for line in open(path):
    fields = dict(kv.split('=', 1) for kv in line.split()[1:] if '=' in kv)
    scenario = f"{fields['scenario']} qos{fields['qos']} {fields['mode']} {fields['transport']}"
    if scenario not in order:
        order.append(scenario)
    for m in metrics:
        if m in fields:
            values[(fields['side'], scenario, m)].append(float(fields[m]))
print("| scenario | metric | A median (min..max) | B median (min..max) | B/A |")
print("|---|---|---:|---:|---:|")
for scenario in order:
    for m in metrics:
        a, b = values.get(('A', scenario, m)), values.get(('B', scenario, m))
        if not a or not b:
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        fmt = lambda v: f"{v:,.3f}" if v < 100 else f"{v:,.0f}"
        ratio = f"{mb / ma:.2f}" if ma else "-"
        print(f"| {scenario} | {m} | {fmt(ma)} ({fmt(min(a))}..{fmt(max(a))}) "
              f"| {fmt(mb)} ({fmt(min(b))}..{fmt(max(b))}) | {ratio} |")
EOF
}

mkdir -p "$(dirname "$REPORT")"
{
    echo "# Skylark A/B, $DATE on $(hostname -s)"
    echo
    echo "- A: $JAR_A"
    echo "- B: $JAR_B"
    echo "- $ROUNDS alternating rounds (A, B, A, B, ...), scenarios: $SCENARIOS; medians with min..max; one load generator"
    echo "- cpu: $(nproc) x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
    echo
    summary
    echo
    echo '```'
    cat "$WORK/all"
    echo '```'
} > "$REPORT"
cat "$REPORT"
echo "[ab] written to $REPORT" >&2
