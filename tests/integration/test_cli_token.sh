#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire token` mints an HS256 JWT whose signature verifies
# with the shared secret (checked here with Python's hmac, independently of
# libjwt) and whose claims are the role, the sessions, iat and exp = iat +
# ttl, plus iss/aud when asked; and that bad input is refused clearly. Also
# that --token reaches the broker as the MQTT password.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

secret=$JW_TMP/secret
printf 'correct horse battery staple 42\n' >"$secret"
verify() { # token -> "ok <claims json>" or an error
	python3 - "$1" "$secret" <<'PY'
import base64, hashlib, hmac, json, sys
tok, path = sys.argv[1], sys.argv[2]
key = open(path, "rb").read().rstrip(b"\n")
h, p, s = tok.split(".")
pad = lambda x: x + "=" * (-len(x) % 4)
mac = hmac.new(key, (h + "." + p).encode(), hashlib.sha256).digest()
ok = hmac.compare_digest(base64.urlsafe_b64encode(mac).rstrip(b"=").decode(), s)
hdr = json.loads(base64.urlsafe_b64decode(pad(h)))
claims = json.loads(base64.urlsafe_b64decode(pad(p)))
print("ok" if ok and hdr.get("alg") == "HS256" else "BAD-SIGNATURE", json.dumps(claims, sort_keys=True))
PY
}

jw_capture "$JW_CLI" token --role worker --sessions lab,scope-3 --ttl 2h --secret-file "$secret" --issuer jobwire-dev --audience lab-broker
jw_assert_eq "token: exit 0" 0 "$JW_RC"
out=$(verify "$JW_OUT")
jw_assert_eq "token: HS256 signature verifies with the secret (newline excluded)" "ok" "${out%% *}"
claims=${out#* }
jw_assert_eq "token: claims" "worker ['lab', 'scope-3'] 7200 jobwire-dev lab-broker" \
	"$(echo "$claims" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["role"], d["sessions"], d["exp"]-d["iat"], d["iss"], d["aud"])')"
now=$(date +%s)
jw_check "token: iat is now" python3 -c "import json,sys; d=json.loads('$claims'); sys.exit(abs(d['iat']-$now) > 5)"

jw_capture env JOBWIRE_JWT_SECRET_FILE="$secret" "$JW_CLI" token --role admin --sessions '*'
jw_assert_eq "token: sessions * and the default ttl of 1h" "admin * 3600" \
	"$(verify "$JW_OUT" | cut -d' ' -f2- | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["role"], d["sessions"], d["exp"]-d["iat"])')"
printf 'another secret, 32 bytes long!!!' >"$JW_TMP/other"
tok=$("$JW_CLI" token --role viewer --sessions lab --secret-file "$JW_TMP/other")
jw_assert_eq "token: a different secret does not verify" "BAD-SIGNATURE" "$(verify "$tok" | cut -d' ' -f1)"

printf 'short\n' >"$JW_TMP/short"
for args in "--role boss --sessions a --secret-file $secret|--role must be viewer, observer, worker, station, edge or admin" \
	"--role worker --secret-file $secret|--sessions is required" \
	"--role worker --sessions a,,b --secret-file $secret|has an empty item" \
	"--role worker --sessions a/b --secret-file $secret|is not a session id" \
	"--role worker --sessions a --ttl 0 --secret-file $secret|must be at least 1s" \
	"--role worker --sessions a --ttl forever --secret-file $secret|duration" \
	"--role worker --sessions a|--secret-file (or JOBWIRE_JWT_SECRET_FILE) is required" \
	"--role worker --sessions a --secret-file $JW_TMP/none|No such file" \
	"--role worker --sessions a --secret-file $JW_TMP/short|use at least 16"; do
	jw_capture "$JW_CLI" token ${args%%|*}
	if [ "$JW_RC" -eq 64 ] && [[ "$JW_ERR" == *"${args#*|}"* ]]; then
		jw_pass "token refuses: ${args#*|}"
	else
		jw_fail "token: ${args%%|*}: rc=$JW_RC err=[$JW_ERR]"
	fi
	[ -z "$JW_OUT" ] || jw_fail "token printed something on error"
done

# --token is sent as the MQTT password: a broker with a password file that
# holds the token as a password lets the client in, and refuses another.
jw_capture "$JW_CLI" token --role worker --sessions lab --secret-file "$secret"
tok=$JW_OUT
mosquitto_passwd -b -c "$JW_TMP/passwd" jobwire "$tok" 2>/dev/null
chmod 644 "$JW_TMP/passwd"
jw_start_broker cli_token "password_file $JW_TMP/passwd" "allow_anonymous false"
jw_capture "$JW_CLI" publish progress -p "$JW_PORT" --token "$tok" -s lab -j j1 progress=5
jw_assert_eq "--token: accepted as the password" 0 "$JW_RC"
jw_capture "$JW_CLI" publish progress -p "$JW_PORT" --token "not-the-token" -s lab -j j1 progress=6
jw_assert_eq "--token: a wrong token is refused (exit 3)" 3 "$JW_RC"
jw_assert_contains "--token: the refusal is explained" "refused the connection" "$JW_ERR"

jw_done
