#!/usr/bin/env bash
# Runs the JMH suite (or the benchmarks matching the given regexps) from benchmarks/target/benchmarks.jar, always
# with -prof gc (B/op is half of every result), and saves JSON under perf-scripts/results/.
#
#   perf-scripts/jmh.sh                                   # the whole suite, each benchmark's own warm-up/iterations
#   perf-scripts/jmh.sh Handoff FanOutEncode              # only these (JMH regexps)
#   JMH_ARGS="-p subscribers=100 -wi 1 -i 2" perf-scripts/jmh.sh RoutingPipeline
#   SMOKE=1 perf-scripts/jmh.sh                           # CI: every benchmark once, in-process, 100 ms; < 1 minute
#
# Environment: SKIP_BUILD=0 (1 = use the jar as built), JMH_ARGS="" (more JMH options), OUT=<json file>.
# Forks get --add-exports from each benchmark's @Fork (dev.skylark.benchmarks.BenchmarkJvm); giving -jvmArgsAppend
# in JMH_ARGS replaces them, so repeat those flags there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SMOKE="${SMOKE:-0}"
SKIP_BUILD="${SKIP_BUILD:-$SMOKE}"
JMH_ARGS="${JMH_ARGS:-}"
JAR="$ROOT/benchmarks/target/benchmarks.jar"
HOST="$(hostname -s 2>/dev/null || hostname)"
STAMP="$(date +%Y-%m-%d-%H%M)"

log() { printf '[jmh] %s\n' "$*" >&2; }

if [[ "$SKIP_BUILD" != 1 ]]; then
    log "building (mvn -B -q -o -DskipTests package)"
    (cd "$ROOT" && mvn -B -q -o -DskipTests package)
fi
[[ -f "$JAR" ]] || { log "missing $JAR (build first)"; exit 1; }

mode_args=()
if [[ "$SMOKE" == 1 ]]; then
    # In-process (-f 0: the jar manifest's Add-Exports applies), no warm-up, one 100 ms iteration: proves every
    # benchmark still sets up and runs; the figures mean nothing.
    mode_args=(-f 0 -wi 0 -i 1 -r 100ms)
    OUT="${OUT:-${TMPDIR:-/tmp}/skylark-jmh-smoke-$STAMP.json}"
else
    mkdir -p "$ROOT/perf-scripts/results"
    OUT="${OUT:-$ROOT/perf-scripts/results/jmh-$STAMP-$HOST.json}"
fi

# shellcheck disable=SC2086
java -jar "$JAR" -prof gc -rf json -rff "$OUT" "${mode_args[@]}" $JMH_ARGS "$@"
log "JSON written to $OUT"
