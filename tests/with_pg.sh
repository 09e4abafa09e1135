#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Runs a command with a private PostgreSQL 15 cluster (tests/integration/
# lib_pg.sh) and JW_TEST_PG_CONNINFO pointing at it; the cluster is removed
# afterwards. Used by tests/run.sh for the journal thread's unit test.
#   tests/with_pg.sh COMMAND [ARGS...]
here=$(cd "$(dirname "$0")" && pwd)
source "$here/integration/lib.sh"
source "$here/integration/lib_pg.sh"
jw_pg_start || { echo "cannot start PostgreSQL" >&2; exit 1; }
export JW_TEST_PG_CONNINFO=$JW_PG_CONNINFO
"$@"
