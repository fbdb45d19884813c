#!/usr/bin/env bash
# Builds the distribution archive (run by `mvn package` in the broker module, after the shaded jar):
#   build-dist.sh VERSION TARGET_DIR "JVM ACCESS FLAGS"
# makes TARGET_DIR/skylark-VERSION-dist.tar.gz holding skylark-VERSION/{bin/skylark, lib/skylark.jar, conf/, ops/,
# docs/, LICENSE, README.md, CHANGELOG.md}; bin/skylark gets the JVM flags of the parent pom's jvm.access.flags.
# DistributionArchiveTest unpacks and runs it (integration-test phase).
set -euo pipefail

version=$1
target=$2
flags=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
name="skylark-$version"
stage="$target/dist"

rm -rf "$stage"
mkdir -p "$stage/$name/bin" "$stage/$name/lib"
sed "s|@jvm.access.flags@|$flags|" "$here/bin/skylark" > "$stage/$name/bin/skylark"
chmod 755 "$stage/$name/bin/skylark"
cp "$target/skylark.jar" "$stage/$name/lib/"
cp -R "$root/conf" "$root/ops" "$stage/$name/"
if [ -d "$root/docs" ]; then cp -R "$root/docs" "$stage/$name/"; fi
cp "$root/LICENSE" "$root/README.md" "$root/CHANGELOG.md" "$stage/$name/"
tar -C "$stage" -czf "$target/$name-dist.tar.gz" "$name"
echo "[dist] $target/$name-dist.tar.gz"
