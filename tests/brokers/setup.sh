#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# CTest fixture of a compatibility run (docs/compatibility.md): builds the
# broker of TARBALL (cached by build.sh), points CACHE_DIR/NAME at it, and
# builds the plugin against that broker's headers in CACHE_DIR/plugin-NAME
# (an ordinary incremental CMake build of the plugin target alone). The
# tests then run with JW_MOSQUITTO=CACHE_DIR/NAME/sbin/mosquitto and
# JW_PLUGIN=CACHE_DIR/plugin-NAME/plugin/jobwire.so.
# Usage: tests/brokers/setup.sh TARBALL CACHE_DIR NAME SOURCE_DIR
set -euo pipefail
tarball=${1:?usage: setup.sh TARBALL CACHE_DIR NAME SOURCE_DIR}
cache=${2:?}
name=${3:?}
src=${4:?}
here=$(cd "$(dirname "$0")" && pwd)

start=$SECONDS
broker=$(bash "$here/build.sh" "$tarball" "$cache")
ln -sfn "$(basename "$broker")" "$cache/$name"
echo "broker: $(cat "$broker/version") in $broker"

plugin_build=$cache/plugin-$name
log=$plugin_build.log
if ! { cmake -S "$src" -B "$plugin_build" -DJW_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DBUILD_TESTING=OFF -DJW_BENCH=OFF -DJW_DASHBOARD=OFF \
	-DJW_MOSQUITTO_INCLUDE_DIR="$cache/$name/include" &&
	cmake --build "$plugin_build" -j"${JW_BROKER_BUILD_JOBS:-2}" --target jobwire_plugin; } >"$log" 2>&1; then
	echo "setup.sh: building the plugin against $name's headers failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	exit 1
fi
echo "plugin: $plugin_build/plugin/jobwire.so (built against $cache/$name/include)"
echo "ready in $((SECONDS - start)) s"
