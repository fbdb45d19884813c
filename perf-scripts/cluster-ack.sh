#!/usr/bin/env bash
# The cost of surviving a node (issue #19): durable QoS 1 fan-in on one node against three nodes with
# skylark.cluster.ack=local (PUBACK after the node's own journal) and =replica (after its journal and its buddy's
# replica), in one run of compare.sh with alternating rounds (per scenario skylark, skylark-cluster3-local,
# skylark-cluster3-replica, skylark, ...). The table gives per scenario the median and min..max of throughput, PUBACK
# latency p50/p99 and broker CPU per message, and the ratio replica / each other. A preset of compare.sh, like ab.sh.
#
#   mvn -B -q -DskipTests package && perf-scripts/cluster-ack.sh
#
# Scenarios (placement in compare.sh): cluster-fanin-qos1-w64 (PUBLISHERS publishers with a window of 64 on node 0,
# flat out, to one subscriber on node 1), cluster-fanin-qos1-flat (window INFLIGHT), cluster-fanin-qos1-paced (paced at
# CLUSTER_RATE msgs/s: PUBACK latency without queueing). On a build without skylark.cluster.ack (before issue #19 is
# merged) both cluster brokers run that build's default and the report says so.
#
# Environment: ROUNDS=3, WARMUP=10s, DURATION=10s, SCENARIOS="cluster-fanin-qos1-w64 cluster-fanin-qos1-paced", METRICS="rate_msgs_s
# puback_p50_us puback_p99_us broker_cpu_us_per_msg lost", REPORT=<file> (default
# perf-scripts/results/cluster-ack-<date>-<host>.md); anything else compare.sh reads (DURATION, WARMUP, PUBLISHERS,
# CLUSTER_RATE, SMOKE, ...) is passed through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATE="$(date -u +%Y-%m-%d)"

# Three JVMs on two cores are still compiling for seconds after they start (C2 took 29 % of the nodes' CPU in the
# first 20 s of a profiled run): 3 s of warm-up measured the JIT more than the cluster, so this preset warms up longer.
if [[ "${SMOKE:-0}" != 1 ]]; then
    export WARMUP="${WARMUP:-10s}" DURATION="${DURATION:-10s}"
fi
BROKERS="${BROKERS:-skylark skylark-cluster3-local skylark-cluster3-replica}" SKIP_BUILD=1 \
    ROUNDS="${ROUNDS:-3}" SCENARIOS="${SCENARIOS:-cluster-fanin-qos1-w64 cluster-fanin-qos1-paced}" \
    METRICS="${METRICS:-rate_msgs_s puback_p50_us puback_p99_us broker_cpu_us_per_msg lost}" \
    REPORT="${REPORT:-$ROOT/perf-scripts/results/cluster-ack-$DATE-$(hostname -s).md}" \
    REPORT_TITLE="${REPORT_TITLE:-QoS 1 fan-in: one node vs three with cluster.ack local and replica}" \
    exec "$ROOT/perf-scripts/compare.sh"
