/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The JWT check (plugin/token.c, compiled in as for tests/unit/test_jwt.c)
 * on hostile tokens, with a fixed HS256 secret and an RS256 public key
 * loaded by the broker's own loader. The first input byte picks the key
 * configuration (bits 0-1: HS256 only; RS256 only; both with an issuer,
 * an audience and no leeway; both with the default 30 s leeway) and what
 * the rest is (bits 2-3): 0 or 1, the token itself; 2, a header and claims
 * (JSON text, split at the first newline; no newline: claims under a
 * default header) that the target signs with the HS256 secret, or with the
 * RSA public key's PEM used as an HMAC secret when bit 4 is set (algorithm
 * confusion); 3, the same signed with the RSA private key. Signing lets
 * the fuzzer reach the claim checks behind the signature.
 *
 * Checked: a refusal says why; a token HMAC-signed with the public key is
 * never accepted; an accepted token has a role, a future expiry within
 * the leeway, and sessions that are valid topic ids (or "*").
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "token.h"
#include "topic.h"

#define SECRET "jobwire-fuzz-hs256-secret-0123456789abcdef"
#define NOW ((int64_t)1800000000) /* 2027-01-15T08:00:00Z */
#define ISSUER "https://issuer.example"
#define AUDIENCE "jobwire"

static struct jw_jwt_keys keys[4];
static EVP_PKEY *rsa;
static int ready;

static void cleanup(void)
{
	for(int i = 0; i < 4; i++)
		jw_jwt_keys_cleanup(&keys[i]);
	EVP_PKEY_free(rsa);
}

static void load(struct jw_jwt_keys *k, const char *hs, const char *pub)
{
	char err[512];

	memset(k, 0, sizeof(*k));
	if(jw_jwt_keys_load(k, hs, pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_jwt: %s\n", err);
		abort();
	}
	k->leeway_s = 30; /* plugin_opt_auth_jwt_leeway's default */
}

static void init(void)
{
	char hs[512], pub[512];
	FILE *f;

	snprintf(hs, sizeof(hs), "%s/secret", jw_fuzz_dir());
	snprintf(pub, sizeof(pub), "%s/rsa.pub", jw_fuzz_dir());
	jw_fuzz_write(hs, SECRET "\n", strlen(SECRET) + 1);
	/* A fresh key each run: RS256 signatures are deterministic for a
	 * key, so an input behaves the same in every run all the same. */
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	f = rsa ? fopen(pub, "w") : NULL;
	if(!f || !PEM_write_PUBKEY(f, rsa)) {
		fprintf(stderr, "fuzz_jwt: cannot make the RSA key\n");
		abort();
	}
	fclose(f);
	load(&keys[0], hs, NULL);
	load(&keys[1], NULL, pub);
	load(&keys[2], hs, pub);
	keys[2].issuer = strdup(ISSUER);
	keys[2].audience = strdup(AUDIENCE);
	keys[2].leeway_s = 0;
	load(&keys[3], hs, pub);
	atexit(cleanup);
	ready = 1;
}

static size_t b64url(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	for(size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) |
		             (i + 2 < len ? in[i + 2] : 0);

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		if(i + 1 < len)
			out[o++] = tab[v >> 6 & 63];
		if(i + 2 < len)
			out[o++] = tab[v & 63];
	}
	out[o] = '\0';
	return o;
}

/* header.claims.signature over exactly these bytes; NULL when too long
 * to be worth signing (the check refuses long tokens before decoding). */
static char *sign(const uint8_t *in, size_t len, int how, const struct jw_jwt_keys *k)
{
	static const char hs_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static const char rs_header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	const uint8_t *nl = memchr(in, '\n', len);
	const uint8_t *h = (const uint8_t *)(how == 3 ? rs_header : hs_header), *c = in;
	size_t hlen = strlen((const char *)h), clen = len, n, siglen = 0;
	unsigned char sig[512];
	char *tok;

	if(nl) {
		h = in;
		hlen = (size_t)(nl - in);
		c = nl + 1;
		clen = len - hlen - 1;
	}
	if(hlen + clen > JW_JWT_MAX_TOKEN)
		return NULL;
	tok = malloc((hlen + clen) * 4 / 3 + 1024);
	if(!tok)
		abort();
	n = b64url(h, hlen, tok);
	tok[n++] = '.';
	n += b64url(c, clen, tok + n);
	if(how == 3) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		siglen = sizeof(sig);
		if(!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, rsa) != 1 ||
		        EVP_DigestSign(md, sig, &siglen, (const unsigned char *)tok, n) != 1)
			abort();
		EVP_MD_CTX_free(md);
	} else {
		unsigned int mlen = 0;
		const void *key = SECRET;
		int keylen = (int)strlen(SECRET);

		if(how == 4) { /* the public key's PEM as the HMAC secret */
			key = k->pub_pem ? (const void *)k->pub_pem : (const void *)keys[1].pub_pem;
			keylen = (int)(k->pub_pem ? k->pub_len : keys[1].pub_len);
		}
		if(!HMAC(EVP_sha256(), key, keylen, (const unsigned char *)tok, n, sig, &mlen))
			abort();
		siglen = mlen;
	}
	tok[n++] = '.';
	b64url(sig, siglen, tok + n);
	return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct jw_jwt_keys *k;
	struct jw_jwt_claims c;
	char why[256];
	char *token;
	int mode, how, rc;

	if(!ready)
		init();
	if(size == 0)
		return 0;
	k = &keys[data[0] & 3];
	mode = data[0] >> 2 & 3;
	how = mode == 2 && (data[0] & 16) ? 4 : mode;
	if(mode < 2)
		token = jw_fuzz_strndup(data + 1, size - 1);
	else
		token = sign(data + 1, size - 1, how, k);
	if(!token)
		return 0;

	memset(why, 0, sizeof(why));
	rc = jw_jwt_verify(k, token, NOW, &c, why, sizeof(why));
	FUZZ_CHECK(rc == 0 || rc == -1, "verify returned %d", rc);
	if(rc != 0) {
		FUZZ_CHECK(why[0] != '\0', "refused without a reason");
		FUZZ_CHECK(c.sessions == NULL && c.nsessions == 0, "a refused token left sessions");
	} else {
		FUZZ_CHECK(how != 4, "a token HMAC-signed with the public key was accepted");
		FUZZ_CHECK(c.role == JW_ROLE_VIEWER || c.role == JW_ROLE_WORKER || c.role == JW_ROLE_ADMIN,
		        "accepted without a role");
		FUZZ_CHECK(NOW < c.exp || NOW - c.exp < k->leeway_s, "accepted a token expired at %lld",
		        (long long)c.exp);
		if(c.all_sessions) {
			FUZZ_CHECK(c.nsessions == 0, "\"*\" and a list");
			FUZZ_CHECK(jw_jwt_has_session(&c, "any", 3), "\"*\" does not grant a session");
		} else {
			FUZZ_CHECK(c.nsessions > 0 || c.role == JW_ROLE_ADMIN, "a %s without sessions",
			        jw_jwt_role_name(c.role));
			FUZZ_CHECK(c.nsessions <= JW_JWT_MAX_SESSIONS, "%zu sessions", c.nsessions);
			for(size_t i = 0; i < c.nsessions; i++) {
				FUZZ_CHECK(jw_topic_id_valid(c.sessions[i]), "session \"%s\" is not a topic id",
				        c.sessions[i]);
				FUZZ_CHECK(jw_jwt_has_session(&c, c.sessions[i], strlen(c.sessions[i])),
				        "a listed session is not granted");
			}
			FUZZ_CHECK(!jw_jwt_has_session(&c, "#", 1) && !jw_jwt_has_session(&c, "+", 1),
			        "a wildcard is granted");
		}
	}
	jw_jwt_claims_cleanup(&c);
	jw_jwt_claims_cleanup(&c);
	free(token);
	return 0;
}
