#!/usr/bin/env bash
# Bundles the demo page's JavaScript (MQTT.js + src/app.js) with esbuild into $1 (the broker's classpath folder
# web/). Run by Maven (exec-maven-plugin) in generate-resources. Without node/npm the build still succeeds: the page
# is served without its bundle and says how to get it.
set -uo pipefail
cd "$(dirname "$0")"
out="${1:-dist}"
mkdir -p "$out"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "[web] node/npm not found: the demo page is served without its JavaScript bundle (install nodejs and npm, then rebuild)"
  exit 0
fi
if [ ! -x node_modules/.bin/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[web] npm ci (demo bundle and interop test dependencies)"
  if ! npm ci --no-audit --no-fund --loglevel=error >/dev/null; then
    echo "[web] npm ci failed: the demo page is served without its JavaScript bundle"
    exit 0
  fi
fi
if [ -f "$out/app.js" ] && [ "$out/app.js" -nt src/app.js ] && [ "$out/app.js" -nt package-lock.json ]; then
  exit 0
fi
if ! node_modules/.bin/esbuild src/app.js --bundle --minify --format=iife --target=es2020 \
    --log-level=warning --outfile="$out/app.js"; then
  echo "[web] esbuild failed: the demo page is served without its JavaScript bundle"
fi
exit 0
