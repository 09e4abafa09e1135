#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# The whole product at once, as an operator would run it: a broker with the
# plugin in JWT mode journaling to a real PostgreSQL, tokens minted by
# `jobwire token`, a job wrapped by `jobwire run` with a worker token,
# followed by `jobwire wait` with a viewer token, refused to a viewer of
# another session and to a viewer publishing events, and finally listed
# by `jobwire history` from the rows the journal wrote.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
source "$(dirname "$0")/lib_cli.sh"
jw_pg_skip_under_preload

jw_pg_start || { echo "cannot start PostgreSQL"; exit 1; }
data=$(jw_data_dir)
secret=$JW_TMP/jwt-secret
head -c 48 /dev/urandom | base64 >"$secret"
chmod 644 "$secret"

JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_pg_conninfo $JW_PG_CONNINFO
plugin_opt_auth_jwt_hs256_secret_file $secret"
jw_start_broker e2e "allow_anonymous false"

token() { "$JW_CLI" token --secret-file "$secret" --ttl 10m "$@"; }
worker=$(token --role worker --sessions e2e)
viewer=$(token --role viewer --sessions e2e)
stranger=$(token --role viewer --sessions elsewhere)
jw_check "jobwire token mints tokens" test -n "$worker" -a -n "$viewer" -a -n "$stranger"

# A job that succeeds, wrapped by jobwire run with the worker's token.
jw_capture jw_cli run --token "$worker" -s e2e -j build-1 -- \
	sh -c 'echo "PROGRESS 1/2 compiling"; echo "PROGRESS 2/2 linking"'
jw_assert_eq "run with a worker token: exit 0" 0 "$JW_RC"
jw_capture jw_cli wait --token "$viewer" -s e2e -j build-1 --timeout 10
jw_assert_eq "wait with a viewer token sees the job complete" 0 "$JW_RC"

# A job that fails.
jw_capture jw_cli run --token "$worker" -s e2e -j build-2 -- sh -c 'echo "boom" >&2; exit 3'
jw_assert_eq "run of a failing command: its exit status" 3 "$JW_RC"
jw_capture jw_cli wait --token "$viewer" -s e2e -j build-2 --timeout 10
jw_assert_eq "wait sees the failure: exit 1" 1 "$JW_RC"

# What tokens do not allow.
jw_capture jw_cli wait --token "$stranger" -s e2e -j build-1 --timeout 3
jw_check "a viewer of another session does not see the job (exit $JW_RC)" test "$JW_RC" -ne 0
jw_assert_contains "... because its subscription is refused" "refused the subscription to jobs/e2e/build-1/state" "$JW_ERR"
jw_capture jw_cli publish progress --token "$viewer" --no-local-check -s e2e -j build-3 progress=5
jw_assert_eq "a viewer cannot publish events: exit 1" 1 "$JW_RC"
jw_assert_contains "... and is told so by the broker" "0x87" "$JW_ERR"
jw_capture jw_cli run --token "$(head -c 40 /dev/urandom | base64 | tr -d '=/+\n')" -s e2e -j build-4 -- true
jw_assert_eq "a garbage token cannot connect: exit 3" 3 "$JW_RC"

# The journal has both rows, and jobwire history reads them.
deadline=$((SECONDS + 15))
until [ "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='e2e'" 2>/dev/null)" = 2 ] ||
	[ $SECONDS -ge $deadline ]; do
	sleep 0.2
done
jw_capture "$JW_CLI" history --db "$JW_PG_CONNINFO" -s e2e --json
jw_assert_eq "history: exit 0" 0 "$JW_RC"
jw_assert_eq "history lists both jobs, newest first" "build-2 failed exit_status
build-1 complete -" "$(printf '%s\n' "$JW_OUT" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(r["job_id"], r["status"], r.get("code") or "-")
')"
jw_capture "$JW_CLI" history --db "$JW_PG_CONNINFO" -s e2e --status failed --json
jw_assert_contains "history --status failed carries the stderr tail" "boom" "$JW_OUT"

jw_done
