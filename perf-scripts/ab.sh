#!/usr/bin/env bash
# Compares two Skylark builds on the same machine: compare.sh with the two jars as brokers skylark-A and skylark-B in
# alternating rounds (per scenario A, B, A, B, ...: drift in the machine's load hits both alike), reporting per
# scenario and metric the median of each build, the spread (min..max) and the ratio B/A. Used to show that a change
# (a refactoring, say) left throughput and broker CPU per message within noise. The rounds, the medians and the table
# are compare.sh's own (ROUNDS, summarize.py): this is only a preset.
#
#   JAR_A=/path/to/before/skylark.jar JAR_B=broker/target/skylark.jar perf-scripts/ab.sh
#
# Environment: JAR_A, JAR_B (required), ROUNDS=3, SCENARIOS="qos0-flat qos1-flat fanout-flat", LOADGEN_CP (the same
# load generator drives both builds; default benchmarks/target/benchmarks.jar), METRICS="rate_msgs_s
# broker_cpu_us_per_msg p50_us p99_us", REPORT=<file> (default perf-scripts/results/ab-<date>-<host>.md); anything
# else compare.sh reads (DURATION, WARMUP, PUBLISHERS, SMOKE, ...) is passed through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${JAR_A:?set JAR_A to the first skylark.jar}"
: "${JAR_B:?set JAR_B to the second skylark.jar}"
DATE="$(date -u +%Y-%m-%d)"

BROKERS="skylark-A skylark-B" SKYLARK_JAR_A="$JAR_A" SKYLARK_JAR_B="$JAR_B" SKIP_BUILD=1 \
    ROUNDS="${ROUNDS:-3}" SCENARIOS="${SCENARIOS:-qos0-flat qos1-flat fanout-flat}" \
    METRICS="${METRICS:-rate_msgs_s broker_cpu_us_per_msg p50_us p99_us}" \
    REPORT="${REPORT:-$ROOT/perf-scripts/results/ab-$DATE-$(hostname -s).md}" REPORT_TITLE="Skylark A/B" \
    exec "$ROOT/perf-scripts/compare.sh"
