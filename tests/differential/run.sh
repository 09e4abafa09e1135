#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Differential test: jobwire's validator against ajv 8 with ajv-formats
# (npm, pinned in this folder's package-lock.json) over the suite's test
# instances and instances derived from them (corpus.js). Every case both
# validators judge must get the same verdict, or be listed with its
# reason in known.tsv (deliberate differences, docs/validator.md).
# Usage: run.sh JW_VERDICTS SUITE_DIR   (SUITE_DIR holds tests/ and remotes/)
set -u -o pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
jw=$1
suite=$2
tests=$suite/tests/draft2020-12

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "SKIP: node and npm are needed for ajv"
	exit 77
fi
# npm ci from the lock when node_modules is missing or older than the lock.
if [ ! -d "$here/node_modules/ajv" ] ||
	! cmp -s "$here/package-lock.json" "$here/node_modules/.package-lock.json.installed"; then
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
		echo "FAIL: npm ci in tests/differential"
		exit 1
	}
	cp "$here/package-lock.json" "$here/node_modules/.package-lock.json.installed"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Every file of the suite's draft2020-12, as the conformance test runs.
files=$(cd "$tests" && ls ./*.json optional/*.json optional/format/*.json | sed 's|^\./||')
node "$here/corpus.js" "$tests" $files >"$tmp/corpus.jsonl" || exit 1
node "$here/ajv_verdicts.js" "$suite/remotes" <"$tmp/corpus.jsonl" | sort >"$tmp/ajv.tsv" || exit 1
"$jw" "$suite/remotes" <"$tmp/corpus.jsonl" | sort >"$tmp/jw.tsv" || exit 1

join -t $'\t' "$tmp/jw.tsv" "$tmp/ajv.tsv" >"$tmp/both.tsv"
total=$(wc -l <"$tmp/both.tsv")
compared=$(awk -F'\t' '$2 != "unsupported" && $3 != "unsupported"' "$tmp/both.tsv" | wc -l)
awk -F'\t' '$2 != "unsupported" && $3 != "unsupported" && $2 != $3 {print $1 "\t" $2 "\t" $3}' \
	"$tmp/both.tsv" >"$tmp/diff.tsv"
# known.tsv: "<id><TAB><reason>"; it covers that suite instance and the
# instances derived from it ("<id>~<n>"). Lines starting with # are notes.
unexplained=0
while IFS=$'\t' read -r id mine theirs; do
	if ! awk -F'\t' -v id="$id" '!/^#/ && (id == $1 || index(id, $1 "~") == 1) {found = 1}
		END {exit !found}' \
		"$here/known.tsv"; then
		echo "DIFF $id: jobwire $mine, ajv $theirs"
		unexplained=$((unexplained + 1))
	fi
done <"$tmp/diff.tsv"
echo "differential: $total cases, $compared judged by both, $(wc -l <"$tmp/diff.tsv") differ," \
	"$unexplained not listed in known.tsv"
[ "$unexplained" -eq 0 ]
