#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that the jobwire command's TLS options reach libmosquitto: with
# the test CA (--cafile, JOBWIRE_CAFILE or an mqtts:// URL) it publishes and
# waits over a TLS listener; without a CA that trusts the server, or with a
# host name the certificate does not name, it refuses to connect (exit 3)
# unless --insecure is given.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

pki=$JW_TMP/pki
mkdir -p "$pki"
(
	cd "$pki" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=jobwire test CA" \
		-keyout ca.key -out ca.crt 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
	printf 'subjectAltName=DNS:localhost\n' >ext.cnf
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile ext.cnf -out server.crt 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" -keyout other.key -out other.crt 2>/dev/null
)
chmod 644 "$pki"/*
tls_port=$(jw_free_port)
jw_start_broker cli_tls "listener $tls_port 127.0.0.1" "cafile $pki/ca.crt" "certfile $pki/server.crt" "keyfile $pki/server.key"
jw_wait_port "$tls_port" 10 || jw_fail "TLS listener did not come up"

jw_capture "$JW_CLI" publish progress -h localhost -p "$tls_port" --cafile "$pki/ca.crt" -s tls -j j1 progress=10
jw_assert_eq "--cafile: accepted over TLS" 0 "$JW_RC"
jw_capture env JOBWIRE_CAFILE="$pki/ca.crt" "$JW_CLI" publish progress -h localhost -p "$tls_port" -s tls -j j1 progress=20
jw_assert_eq "JOBWIRE_CAFILE: accepted over TLS" 0 "$JW_RC"
jw_capture "$JW_CLI" publish complete --url "mqtts://localhost:$tls_port" --cafile "$pki/ca.crt" -s tls -j j1
jw_assert_eq "mqtts:// URL: accepted" 0 "$JW_RC"
jw_capture "$JW_CLI" wait --url "mqtts://localhost:$tls_port" --cafile "$pki/ca.crt" -s tls -j j1 --timeout 5
jw_assert_eq "wait over TLS: complete" 0 "$JW_RC"

jw_capture "$JW_CLI" publish progress -h localhost -p "$tls_port" --cafile "$pki/other.crt" --connect-timeout 3s -s tls -j j2 progress=1
jw_assert_eq "untrusted server certificate: exit 3" 3 "$JW_RC"
jw_assert_contains "untrusted server certificate: explained" "A TLS error occurred. (the server's certificate is not signed by a CA" "$JW_ERR"
jw_capture "$JW_CLI" publish progress -h 127.0.0.1 -p "$tls_port" --cafile "$pki/ca.crt" --connect-timeout 3s -s tls -j j2 progress=1
jw_assert_eq "host name not in the certificate: exit 3" 3 "$JW_RC"
jw_capture "$JW_CLI" publish progress -h 127.0.0.1 -p "$tls_port" --cafile "$pki/ca.crt" --insecure -s tls -j j2 progress=1
jw_assert_eq "--insecure skips the host name check" 0 "$JW_RC"
jw_capture "$JW_CLI" publish progress -h localhost -p "$tls_port" --cafile "$JW_TMP/missing.crt" -s tls -j j2 progress=2
jw_assert_eq "missing CA file: exit 3" 3 "$JW_RC"
jw_assert_contains "missing CA file: explained" "TLS setup" "$JW_ERR"
jw_capture "$JW_CLI" publish progress -p "$tls_port" --connect-timeout 2s -s tls -j j2 progress=3
jw_assert_eq "plain MQTT to a TLS port: exit 3" 3 "$JW_RC"
jw_assert_contains "plain MQTT to a TLS port: hints at --tls" "TLS needs --tls" "$JW_ERR"

jw_done
