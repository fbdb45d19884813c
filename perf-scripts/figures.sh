#!/usr/bin/env bash
# The figures of docs/benchmarks.md in one sequence, for a quiet machine (load average well under 1 before it
# starts; ~60 min on 2 cores). Every run alternates its brokers round by round (A B C A B C ...), and Skylark runs
# at its own defaults (SKYLARK_ALIGN=0: journal on, durability=os, outbound window 65,535 bounded by 16 MiB), as a
# user who tunes nothing gets it. Reports go to perf-scripts/results/<date>-<host>-<part>.md:
#
#   core              relay, Mosquitto, HiveMQ CE, Skylark: QoS 0/1 fan-in, 100 publishers, $share, fan-out,
#                     5,000 idle connections (3 rounds)
#   ingest            QoS 1 ingest from 100 and 1,000 publishers (window 64 and 1) to one subscriber and to a $share
#                     group of 4, and 10,000 slow devices; the subscribers are persistent sessions, so Skylark journals
#                     every message before its PUBACK; Skylark with durability=os and =fsync (3 rounds)
#   paced-5000/-20000 moderate load: QoS 0 and QoS 1 fan-in paced at 5,000 and 20,000 msgs/s (5 rounds)
#   connections-19900 RSS per idle connection at 19,900 connections (3 rounds)
#
# Environment: PARTS="core ingest paced connections" (a subset runs only those), ROUNDS_CORE=3 ROUNDS_PACED=5,
# and everything compare.sh reads (SKYLARK_JAR, HIVEMQ_JAR, ...). Build first: mvn -q -DskipTests package.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PARTS="${PARTS:-core ingest paced connections}"
ROUNDS_CORE="${ROUNDS_CORE:-3}"
ROUNDS_PACED="${ROUNDS_PACED:-5}"
PREFIX="$ROOT/perf-scripts/results/$(date -u +%Y-%m-%d)-$(hostname -s)"
export SKIP_BUILD="${SKIP_BUILD:-1}" SKYLARK_ALIGN=0
export SKYLARK_ARGS_fsync="${SKYLARK_ARGS_fsync:---skylark.durability fsync}"

part() {
    echo "[figures] $1 $(date -u +%H:%M:%S)" >&2
    [[ " $PARTS " == *" ${1%%-*} "* ]]
}

if part core; then
    BROKERS="relay mosquitto hivemq skylark" ROUNDS="$ROUNDS_CORE" REPORT="$PREFIX-core.md" \
        SCENARIOS="qos0-flat qos1-flat qos0-flat-many shared-qos1-flat fanout-flat fanout1000-paced connections" \
        "$ROOT/perf-scripts/compare.sh"
fi
if part ingest; then
    BROKERS="mosquitto hivemq skylark skylark-fsync" ROUNDS="$ROUNDS_CORE" PERSISTENT_SUBSCRIBERS=1 \
        REPORT="$PREFIX-ingest.md" SCENARIOS="ingest100-w64 ingest100-w1 ingest1000-w64 ingest1000-w1 \
shared-ingest100-w64 shared-ingest100-w1 shared-ingest1000-w64 shared-ingest1000-w1 slow-devices" \
        "$ROOT/perf-scripts/compare.sh"
fi
for rate in 5000 20000; do
    if part "paced-$rate"; then
        BROKERS="relay mosquitto hivemq skylark" ROUNDS="$ROUNDS_PACED" RATE="$rate" REPORT="$PREFIX-paced-$rate.md" \
            SCENARIOS="qos0-paced qos1-paced" "$ROOT/perf-scripts/compare.sh"
    fi
done
if part connections-19900; then
    BROKERS="mosquitto hivemq skylark" ROUNDS="$ROUNDS_CORE" CONNECTIONS=19900 REPORT="$PREFIX-connections-19900.md" \
        SCENARIOS=connections "$ROOT/perf-scripts/compare.sh"
fi
