#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Runs every jobwire test: installs dependencies, checks the layout of the
# C files and their SPDX lines (tests/check_style.sh), builds with
# warnings as errors, runs unit, conformance and integration tests (with the Debian
# package test, and the integration tests again against Mosquitto 2.0.20
# and the 2.1 line, built from ../shared/vendor once and cached in
# build/brokers: docs/compatibility.md), runs the unit and
# conformance tests under valgrind, runs the integration tests with the
# broker under valgrind, then rebuilds with ASan+UBSan and runs
# them all again (the broker preloads the sanitizer runtimes to host the
# instrumented plugin), runs the unit and conformance tests once more
# built by clang with ASan+UBSan, runs the writer thread's tests under
# ThreadSanitizer (the journal's against a private PostgreSQL cluster),
# and runs every fuzz target for a short while under libFuzzer (clang).
#   JW_SKIP_INSTALL=1  skip the package check (faster local iteration)
#   JW_QUICK=1         stop after the first build's tests
#   JW_FUZZ_SECONDS=N  seconds per fuzz target (default 20; 0 skips them)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc 2>/dev/null || echo 2)

[ -n "${JW_SKIP_INSTALL:-}" ] || bash .ci/install-deps

# Each step's heading says how long the run has taken so far (the whole
# run is meant to stay under 45 minutes on two cores).
step() { printf '\n==== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
trap 'step "done (exit $?)"' EXIT

step "style: clang-format and SPDX lines"
bash tests/check_style.sh

step "build (warnings are errors)"
cmake -S . -B build -DJW_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

step "tests"
(cd build && ctest --output-on-failure -j"$jobs")
[ -z "${JW_QUICK:-}" ] || exit 0

step "valgrind: unit, conformance and fuzz replay tests"
# One test per CPU at a time: memcheck runs a program on one thread.
# Every test program runs without arguments (test_conformance reads the
# suite kept in tests/conformance/json-schema-test-suite; the fuzz replay
# programs their corpus and regression folders).
vg_one() {
	local t=$1 start=$SECONDS
	if ! CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		"$t" >"build/$(basename "$t").valgrind.log" 2>&1; then
		echo "valgrind: $(basename "$t") FAILED"
		tail -n 40 "build/$(basename "$t").valgrind.log"
		return 1
	fi
	echo "valgrind: $(basename "$t") clean ($((SECONDS - start)) s)"
}
vg_failed=0
running=0
for t in build/tests/test_* build/tests/fuzz/replay_*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	vg_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || vg_failed=1
		running=$((running - 1))
	fi
done
while [ "$running" -gt 0 ]; do
	wait -n || vg_failed=1
	running=$((running - 1))
done
[ "$vg_failed" -eq 0 ]

step "valgrind: integration tests with the broker (and plugin) under valgrind (not the heavy ones)"
(cd build && JW_BROKER_VALGRIND=1 JW_START_TIMEOUT=30 ctest --output-on-failure -j"$jobs" -L integration -LE heavy)

step "ASan+UBSan build and tests"
cmake -S . -B build-asan -DJW_WERROR=ON -DJW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
export JW_BROKER_PRELOAD="$asan:$ubsan"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ctest --output-on-failure -j"$jobs" -L 'unit|conformance|fuzz-replay')
# The journal's threads with PostgreSQL, instrumented (its broker-hosted
# integration tests skip themselves under the preload: lib_pg.sh).
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 CK_FORK=no "$root/tests/with_pg.sh" ./tests/test_journal)
(cd build-asan && ctest --output-on-failure -j"$jobs" -L integration)

step "ASan+UBSan with clang: unit and conformance tests"
# clang's UBSan also checks pointer arithmetic on NULL (an empty array's
# item pointer plus 0), which GCC's does not, and float-to-int overflow.
# (Warnings are GCC's business above: clang flags a few static inline
# helpers that one SIMD variant leaves unused.)
cmake -S . -B build-clang -DCMAKE_C_COMPILER=clang -DJW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
	-DJW_BENCH=OFF >/dev/null
cmake --build build-clang -j"$jobs"
(cd build-clang && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ctest --output-on-failure -j"$jobs" -L 'unit|conformance')

step "ThreadSanitizer: the job-log writer thread and the journal's threads"
unset JW_BROKER_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
cmake -S . -B build-tsan -DJW_WERROR=ON -DJW_TSAN=ON -DCMAKE_BUILD_TYPE=Debug -DJW_BENCH=OFF >/dev/null
cmake --build build-tsan -j"$jobs" --target test_persist test_kvlog test_journal
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 CK_FORK=no ctest --output-on-failure -R '^unit\.(test_persist|test_kvlog)$')
# The journal thread against a real PostgreSQL (a private cluster).
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 CK_FORK=no "$root/tests/with_pg.sh" ./tests/test_journal)

step "fuzz: every target ${JW_FUZZ_SECONDS:-20} s under libFuzzer with ASan+UBSan (clang, build-fuzz)"
# Two targets at a time; a crash or broken invariant fails the run and
# prints the report with the reproducing input (tests/fuzz/run.sh).
if [ "${JW_FUZZ_SECONDS:-20}" != 0 ]; then
	JW_FUZZ_JOBS="$jobs" bash tests/fuzz/run.sh all "${JW_FUZZ_SECONDS:-20}"
fi
