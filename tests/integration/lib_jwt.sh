# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Tokens for the tests that turn JWT on. Source after lib.sh.

# Writes a fresh HS256 secret to $JW_TMP/secret (readable by the broker,
# which runs as mosquitto) for plugin_opt_auth_jwt_hs256_secret_file.
jw_jwt_secret() {
	head -c 48 /dev/urandom | base64 >"$JW_TMP/secret"
	chmod 644 "$JW_TMP/secret"
}

# Prints a token signed with that secret (examples/jwt-dev-token.py; its
# arguments are passed on).
tok() { python3 "$JW_SOURCE_DIR/examples/jwt-dev-token.py" --secret-file "$JW_TMP/secret" "$@"; }
