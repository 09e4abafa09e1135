#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Builds one upstream Mosquitto broker from a release tarball, for the
# compatibility runs (docs/compatibility.md), and prints the folder that
# holds it: sbin/mosquitto, include/ (its plugin headers) and
# linker.syms. Builds are cached under CACHE_DIR keyed on the tarball's
# SHA-256, so a second run (or another build of the same tarball) costs
# nothing; a changed tarball gets a folder of its own.
# Usage: tests/brokers/build.sh TARBALL CACHE_DIR
set -euo pipefail
tarball=${1:?usage: build.sh TARBALL CACHE_DIR}
cache=${2:?usage: build.sh TARBALL CACHE_DIR}
[ -r "$tarball" ] || { echo "build.sh: cannot read $tarball" >&2; exit 1; }

name=$(basename "$tarball" .tar.gz)
sum=$(sha256sum "$tarball" | cut -c1-16)
out=$cache/$name-$sum
mkdir -p "$cache"
# One build per tarball at a time: parallel test runs wait for each other.
mkdir -p "$cache/locks"
exec 9>"$cache/locks/$name"
flock 9
if [ -x "$out/sbin/mosquitto" ] && [ -f "$out/done" ]; then
	echo "$out"
	exit 0
fi

work=$out.tmp
rm -rf "$work" "$out"
mkdir -p "$work/src"
tar -xzf "$tarball" -C "$work/src" --strip-components=1
# Only the broker: no clients, apps, plugins, documentation or tests.
# 2.0.x links Debian's libwebsockets for its WebSocket listeners; the 2.1
# line has a built-in implementation (its default).
opts=(-DCMAKE_BUILD_TYPE=Release -DDOCUMENTATION=OFF -DWITH_CLIENTS=OFF -DWITH_APPS=OFF
	-DWITH_PLUGINS=OFF -DWITH_TESTS=OFF -DWITH_WEBSOCKETS=ON -DWITH_BUNDLED_DEPS=ON)
log=$work/build.log
if ! { cmake -S "$work/src" -B "$work/build" "${opts[@]}" &&
	cmake --build "$work/build" -j"${JW_BROKER_BUILD_JOBS:-2}" --target mosquitto; } >"$log" 2>&1; then
	echo "build.sh: building $name failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	exit 1
fi
mkdir -p "$work/sbin"
cp "$work/build/src/mosquitto" "$work/sbin/mosquitto"
cp -r "$work/src/include" "$work/include"
cp "$work/src/src/linker.syms" "$work/linker.syms"
rm -rf "$work/src" "$work/build"
"$work/sbin/mosquitto" -h 2>/dev/null | head -n 1 >"$work/version" || true
touch "$work/done"
mv "$work" "$out"
echo "$out"
