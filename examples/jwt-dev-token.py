#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""Mints a JWT for jobwire's JWT authentication, for development and tests.

Production tokens come from your identity provider (or `jobwire token`);
this script only needs the Python standard library for HS256, and the
openssl command for RS256 / ES256. The token is printed on stdout.

  jwt-dev-token.py --secret-file secret --role viewer --sessions demo
  jwt-dev-token.py --key private.pem --alg ES256 --role worker --sessions a,b
  jwt-dev-token.py --secret-file secret --claims '{"role":"admin","exp":1}'

Tests also use it to build bad tokens: --header-alg sets the header's alg
independently of how the token is signed, --no-signature leaves the
signature empty, --claims replaces the whole claim set.
"""
import argparse
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_to_raw(der, size=32):
    """ECDSA DER signature (SEQUENCE of two INTEGERs) -> r || s."""
    if der[0] != 0x30:
        raise ValueError("not a DER sequence")
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        if der[i] != 0x02:
            raise ValueError("not a DER integer")
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\0")
        out += v.rjust(size, b"\0")
        i += 2 + n
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--secret-file", help="HS256 secret (one trailing newline ignored)")
    ap.add_argument("--key", help="PEM private key for RS256 / ES256")
    ap.add_argument("--alg", default=None, help="HS256 (default with --secret-file), RS256 or ES256")
    ap.add_argument("--role", default="viewer")
    ap.add_argument("--sessions", default=None, help="comma-separated ids, or *")
    ap.add_argument("--ttl", type=int, default=3600, help="seconds until exp (negative: already expired)")
    ap.add_argument("--nbf", type=int, default=None, help="nbf as an offset from now, in seconds")
    ap.add_argument("--iat", type=int, default=None, help="iat as an offset from now, in seconds")
    ap.add_argument("--station", help="the station claim (role station: the station it speaks for)")
    ap.add_argument("--sub", help="subject: who holds the token (a client id in use belongs to one subject)")
    ap.add_argument("--iss")
    ap.add_argument("--aud")
    ap.add_argument("--claims", help="the whole claim set as JSON (overrides the options above)")
    ap.add_argument("--header-alg", help="alg written in the header (default: the signing alg)")
    ap.add_argument("--no-signature", action="store_true")
    a = ap.parse_args()

    alg = a.alg or ("HS256" if a.secret_file else "RS256")
    now = int(time.time())
    if a.claims is not None:
        claims = json.loads(a.claims)
    else:
        claims = {"role": a.role, "exp": now + a.ttl, "iat": now}
        if a.sessions is not None:
            claims["sessions"] = "*" if a.sessions == "*" else [s for s in a.sessions.split(",") if s]
        if a.nbf is not None:
            claims["nbf"] = now + a.nbf
        if a.iat is not None:
            claims["iat"] = now + a.iat
        if a.sub:
            claims["sub"] = a.sub
        if a.station:
            claims["station"] = a.station
        if a.iss:
            claims["iss"] = a.iss
        if a.aud:
            claims["aud"] = a.aud
    header = {"alg": a.header_alg or alg, "typ": "JWT"}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    if a.no_signature:
        print(signing_input + ".")
        return 0
    if alg == "HS256":
        with open(a.secret_file, "rb") as f:
            secret = f.read()
        if secret.endswith(b"\n"):
            secret = secret[:-1]
            if secret.endswith(b"\r"):
                secret = secret[:-1]
        sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    elif alg in ("RS256", "ES256"):
        der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", a.key],
                             input=signing_input.encode(), capture_output=True, check=True).stdout
        sig = der_to_raw(der) if alg == "ES256" else der
    else:
        print("unsupported --alg " + alg, file=sys.stderr)
        return 2
    print(signing_input + "." + b64url(sig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
