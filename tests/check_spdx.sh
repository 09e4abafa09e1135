#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Lists the tracked source, build and script files that lack an
# "SPDX-License-Identifier:" line in their first ten lines, and exits 1
# when there is any (docs/licensing.md). JSON and dpkg's conffiles list
# have no comments (LICENSE covers them), documentation is prose, and
# copies of other projects' files keep their own licence, so those are
# left out.
#   tests/check_spdx.sh            every tracked file
#   tests/check_spdx.sh FILE...    only these
set -euo pipefail
cd "$(dirname "$0")/.."

# Whether path is a file that should carry the line.
wanted() {
	case "$1" in
		tests/conformance/json-schema-test-suite/* | tests/fuzz/corpus/* | tests/fuzz/regressions/*) return 1 ;;
		*/package-lock.json | LICENSE | LICENSE-* | plugin/debian/conffiles) return 1 ;;
		*.c | *.h | *.sh | *.py | *.js | *.cmake | */CMakeLists.txt | CMakeLists.txt | *.sql | *.css | *.html) return 0 ;;
		*.in | *.conf | *.service | *.1 | .clang-format | .clang-tidy | .editorconfig | .gitignore) return 0 ;;
		.ci/* | plugin/debian/*) return 0 ;;
	esac
	return 1
}

if [ $# -gt 0 ]; then
	files=("$@")
else
	mapfile -t files < <(git ls-files)
fi
missing=0
for f in "${files[@]}"; do
	wanted "$f" || continue
	[ -f "$f" ] || continue
	if ! head -n 10 "$f" | grep -q 'SPDX-License-Identifier: '; then
		echo "$f"
		missing=$((missing + 1))
	fi
done
if [ "$missing" -gt 0 ]; then
	echo "check_spdx: $missing file(s) without an SPDX-License-Identifier line" >&2
	exit 1
fi
echo "check_spdx: every file has its SPDX-License-Identifier line" >&2
