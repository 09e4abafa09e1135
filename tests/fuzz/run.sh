#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Builds the libFuzzer targets (clang, ASan+UBSan, warnings as errors, in
# build-fuzz/) and runs them, two at a time, each for a bounded time:
#   bash tests/fuzz/run.sh                 every target, 20 s each
#   bash tests/fuzz/run.sh kvlog 600       one target, 10 minutes
#   bash tests/fuzz/run.sh all 300         every target, 5 minutes each
# Each target starts from its committed corpus (tests/fuzz/corpus/<name>)
# and regressions (tests/fuzz/regressions/<name>) and keeps what it finds
# in build-fuzz/fuzz-corpus/<name>, so a later run goes on from there.
# A crash, sanitizer report, leak, timeout (10 s on one input) or broken
# invariant fails the run: the report is printed with the reproducing
# input, saved under build-fuzz/fuzz-artifacts/<name>/.
#   JW_FUZZ_JOBS=N   targets at a time (default 2)
#   JW_FUZZ_BUILD=D  build directory (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
targets_all=(json schema validate event topic jwt kvlog spool checkpoint)
which=${1:-all}
seconds=${2:-20}
jobs=${JW_FUZZ_JOBS:-2}
build=${JW_FUZZ_BUILD:-build-fuzz}

if [ "$which" = all ]; then
	targets=("${targets_all[@]}")
else
	targets=()
	for t in ${which//,/ }; do
		case " ${targets_all[*]} " in
		*" $t "*) targets+=("$t") ;;
		*) echo "fuzz: unknown target $t (one of: ${targets_all[*]}, all)" >&2; exit 2 ;;
		esac
	done
fi
case $seconds in
''|*[!0-9]*) echo "fuzz: seconds must be a number, got $seconds" >&2; exit 2 ;;
esac

command -v clang >/dev/null || { echo "fuzz: clang not found (bash .ci/install-deps installs it)" >&2; exit 1; }
CC=clang cmake -S . -B "$build" -DJW_FUZZ=ON -DJW_WERROR=ON -DJW_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if ! cmake --build "$build" -j"$jobs" --target fuzz_targets >"$build/fuzz-build.log" 2>&1; then
	tail -n 40 "$build/fuzz-build.log"
	echo "fuzz: the build failed (log: $build/fuzz-build.log)" >&2
	exit 1
fi

# Files the targets make go to a folder of this run, removed at the end
# even when a crash skipped the targets' own cleanup.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jw-fuzz-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export JW_FUZZ_TMPDIR=$tmp
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$root/tests/fuzz/ubsan.supp}
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && command -v llvm-symbolizer >/dev/null; then
	export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
fi

one() {
	local t=$1 work="$build/fuzz-corpus/$1" art="$build/fuzz-artifacts/$1" log="$build/fuzz-logs/$1.log"
	local dirs=("$work" "tests/fuzz/corpus/$t")
	mkdir -p "$work" "$art" "$build/fuzz-logs"
	[ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
	if "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" "${dirs[@]}" >"$log" 2>&1; then
		printf 'fuzz: %-10s ok   (%s)\n' "$t" "$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs, $seconds s"
		return 0
	fi
	printf '\nfuzz: %-10s FAILED; the report (full log: %s):\n' "$t" "$log"
	# From the first report line on: what broke, where, and libFuzzer's
	# summary with the input.
	local first
	first=$(grep -n -m1 -E 'runtime error|ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|invariant failed|ERROR: libFuzzer|^==[0-9]+==' "$log" | cut -d: -f1)
	sed -n "${first:-1},\$p" "$log" | sed '/Test unit written to/q' |
		grep -v -E '^#[0-9]+ |^INFO:|^stat::|in fuzzer::|__libc_start|in _start|^0x[0-9a-f]+,' | head -n 60
	for f in "$art"/*; do
		[ -f "$f" ] || continue
		echo "fuzz: reproducer $f ($(stat -c %s "$f") bytes), as hex:"
		od -An -tx1 -v "$f" | head -n 16
		echo "fuzz: replay it: $build/tests/fuzz/fuzz_$t $f"
		echo "fuzz: keep it as a regression once fixed: cp $f tests/fuzz/regressions/$t/"
	done
	return 1
}

failed=0
running=0
for t in "${targets[@]}"; do
	rm -rf "$build/fuzz-artifacts/$t"
	one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || failed=1
		running=$((running - 1))
	fi
done
while [ "$running" -gt 0 ]; do
	wait -n || failed=1
	running=$((running - 1))
done
[ "$failed" -eq 0 ] || { echo "fuzz: FAILED" >&2; exit 1; }
echo "fuzz: all passed"
