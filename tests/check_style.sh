#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Checks the tree's style: every tracked C file is as the project's
# .clang-format (clang-format 14, Debian 12) lays it out, and every source
# file carries its SPDX line (tests/check_spdx.sh). Exits 1 with the
# offending files otherwise. To fix the layout of the files you changed:
#   clang-format -i FILE...
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(git ls-files '*.c' '*.h' | grep -v -e '^tests/conformance/json-schema-test-suite/' \
	-e '^tests/fuzz/corpus/' -e '^tests/fuzz/regressions/')
report=$(mktemp)
trap 'rm -f "$report"' EXIT
if ! clang-format --dry-run --Werror "${files[@]}" 2>"$report"; then
	grep -o '^[^:]*\.[ch]:' "$report" | sort -u | sed 's/:$//; s/^/not formatted: /' >&2
	echo "check_style: run clang-format -i on the files above" >&2
	exit 1
fi
echo "check_style: ${#files[@]} C files formatted as .clang-format says" >&2
bash tests/check_spdx.sh
