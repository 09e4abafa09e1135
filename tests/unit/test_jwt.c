/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Unit tests of plugin/token.c (compiled straight in: it has no broker
 * dependency): valid tokens of each algorithm, every kind of bad token a
 * client could send (expired, not yet valid, alg none, algorithm
 * confusion, wrong claim types, wildcard sessions, garbage, oversize), and
 * key files the broker must refuse at start.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "token.h"

#define SECRET "0123456789abcdef0123456789abcdef-test-secret"
#define NOW ((int64_t)1800000000)

static char tmpdir[] = "/tmp/jw-test-jwt.XXXXXX";
static char secret_path[512], ec_pub[512], ec_priv[512], rsa_pub[512], rsa_priv[512];
static char p384_pub[512], rsa1024_pub[512];

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void keypair(const char *pub, const char *priv, EVP_PKEY *k)
{
	FILE *f;

	ck_assert_ptr_nonnull(k);
	f = fopen(pub, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert(PEM_write_PUBKEY(f, k));
	fclose(f);
	if(priv) {
		f = fopen(priv, "w");
		ck_assert_ptr_nonnull(f);
		ck_assert(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL));
		fclose(f);
	}
	EVP_PKEY_free(k);
}

static void setup_files(void)
{
	static int done;
	char extra[512];

	if(done) {
		return;
	}
	done = 1;
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(secret_path, sizeof(secret_path), "%s/secret", tmpdir);
	write_file(secret_path, SECRET "\n", strlen(SECRET) + 1);
	snprintf(ec_pub, sizeof(ec_pub), "%s/ec.pub", tmpdir);
	snprintf(ec_priv, sizeof(ec_priv), "%s/ec.pem", tmpdir);
	keypair(ec_pub, ec_priv, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	snprintf(rsa_pub, sizeof(rsa_pub), "%s/rsa.pub", tmpdir);
	snprintf(rsa_priv, sizeof(rsa_priv), "%s/rsa.pem", tmpdir);
	keypair(rsa_pub, rsa_priv, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
	snprintf(p384_pub, sizeof(p384_pub), "%s/p384.pub", tmpdir);
	keypair(p384_pub, NULL, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	snprintf(rsa1024_pub, sizeof(rsa1024_pub), "%s/rsa1024.pub", tmpdir);
	keypair(rsa1024_pub, NULL, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
	(void)extra;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(70000);

	ck_assert_ptr_nonnull(f);
	*len = fread(buf, 1, 69999, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* Signs claims_json with libjwt. alg HS256 uses key_path's bytes (minus
 * the trailing newline) as the secret; RS256/ES256 use it as a private key. */
static char *sign(jwt_alg_t alg, const char *key_path, const char *claims_json)
{
	jwt_t *j = NULL;
	size_t len = 0;
	unsigned char *key = slurp(key_path, &len);
	char *out;

	if(alg == JWT_ALG_HS256 && len && key[len - 1] == '\n') {
		len--;
	}
	ck_assert_int_eq(jwt_new(&j), 0);
	ck_assert_int_eq(jwt_add_grants_json(j, claims_json), 0);
	ck_assert_int_eq(jwt_set_alg(j, alg, alg == JWT_ALG_NONE ? NULL : key,
	                         alg == JWT_ALG_NONE ? 0 : (int)len),
	        0);
	out = jwt_encode_str(j);
	ck_assert_ptr_nonnull(out);
	jwt_free(j);
	free(key);
	return out;
}

static void b64url(const unsigned char *in, size_t len, char *out)
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
}

/* An HS256 token over exactly these claim bytes (libjwt refuses to
 * encode some of the hostile claim sets). */
static char *hs(const char *claims)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	size_t cap = strlen(claims) * 2 + 256;
	char *tok = malloc(cap);
	unsigned char mac[32];
	size_t maclen = 0, n;

	b64url((const unsigned char *)header, strlen(header), tok);
	n = strlen(tok);
	tok[n++] = '.';
	b64url((const unsigned char *)claims, strlen(claims), tok + n);
	n = strlen(tok);
	ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, SECRET, strlen(SECRET),
	        (const unsigned char *)tok, n, mac, sizeof(mac), &maclen));
	tok[n++] = '.';
	b64url(mac, maclen, tok + n);
	return tok;
}

static struct jw_jwt_keys keys_both(void)
{
	struct jw_jwt_keys k;
	char err[256];

	setup_files();
	memset(&k, 0, sizeof(k));
	ck_assert_msg(jw_jwt_keys_load(&k, secret_path, ec_pub, err, sizeof(err)) == 0, "%s", err);
	k.leeway_s = 5;
	return k;
}

/* Expects verification to fail with a reason containing want. */
static void refused(const struct jw_jwt_keys *k, const char *token, const char *want)
{
	struct jw_jwt_claims c;
	char why[256] = "";
	int rc = jw_jwt_verify(k, token, NOW, &c, why, sizeof(why));

	ck_assert_msg(rc == -1, "accepted a bad token, expected refusal: %s", want);
	ck_assert_msg(strstr(why, want) != NULL, "reason [%s] lacks [%s]", why, want);
	ck_assert_ptr_null(c.sessions);
}

START_TEST(test_valid_hs256_viewer)
{
	struct jw_jwt_keys k = keys_both();
	struct jw_jwt_claims c;
	char why[256];
	char *t = hs("{\"role\":\"viewer\",\"sessions\":[\"s1\",\"s-2.x\"],\"exp\":1800000100}");

	ck_assert_int_eq(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(c.role, JW_ROLE_VIEWER);
	ck_assert_uint_eq(c.nsessions, 2);
	ck_assert(jw_jwt_has_session(&c, "s1", 2));
	ck_assert(jw_jwt_has_session(&c, "s-2.x", 5));
	ck_assert(!jw_jwt_has_session(&c, "s", 1));
	ck_assert(!jw_jwt_has_session(&c, "s1x", 3));
	ck_assert_int_eq(c.exp, 1800000100);
	jw_jwt_claims_cleanup(&c);
	jw_jwt_claims_cleanup(&c);
	free(t);
	jw_jwt_keys_cleanup(&k);
	jw_jwt_keys_cleanup(&k);
}
END_TEST

START_TEST(test_valid_star_admin_es256_rs256)
{
	struct jw_jwt_keys k = keys_both();
	struct jw_jwt_keys r;
	struct jw_jwt_claims c;
	char why[256], err[256];
	char *t = hs("{\"role\":\"worker\",\"sessions\":\"*\",\"exp\":1800000100}");

	ck_assert_int_eq(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)), 0);
	ck_assert(c.all_sessions);
	ck_assert(jw_jwt_has_session(&c, "anything", 8));
	jw_jwt_claims_cleanup(&c);
	free(t);
	t = sign(JWT_ALG_ES256, ec_priv, "{\"role\":\"admin\",\"exp\":1800000100}");
	ck_assert_msg(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(c.role, JW_ROLE_ADMIN);
	free(t);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(jw_jwt_keys_load(&r, NULL, rsa_pub, err, sizeof(err)), 0);
	ck_assert_int_eq(r.pub_alg, JW_PUBKEY_RS256);
	t = sign(JWT_ALG_RS256, rsa_priv,
	        "{\"role\":\"viewer\",\"sessions\":[\"a\"],\"exp\":1800000100}");
	ck_assert_msg(jw_jwt_verify(&r, t, NOW, &c, why, sizeof(why)) == 0, "%s", why);
	jw_jwt_claims_cleanup(&c);
	/* An RS256 token against the EC key, an ES256 one against RSA. */
	refused(&k, t, "algorithm RS256 is not accepted");
	free(t);
	t = sign(JWT_ALG_ES256, ec_priv, "{\"role\":\"admin\",\"exp\":1800000100}");
	refused(&r, t, "algorithm ES256 is not accepted");
	refused(&r, "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", "algorithm HS256 is not accepted");
	free(t);
	jw_jwt_keys_cleanup(&r);
	jw_jwt_keys_cleanup(&k);
}
END_TEST

/* The role of an edge broker's bridge: named like the others, and bound
 * by the sessions claim like every role but admin. */
START_TEST(test_role_edge)
{
	struct jw_jwt_keys k = keys_both();
	struct jw_jwt_claims c;
	char why[256];
	char *t = hs("{\"role\":\"edge\",\"sessions\":\"*\",\"sub\":\"edge1\",\"exp\":1800000100}");

	ck_assert_msg(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(c.role, JW_ROLE_EDGE);
	ck_assert_str_eq(jw_jwt_role_name(c.role), "edge");
	ck_assert(c.all_sessions);
	ck_assert_str_eq(c.subject, "edge1");
	jw_jwt_claims_cleanup(&c);
	free(t);
	t = hs("{\"role\":\"edge\",\"sessions\":[\"lab-a\"],\"exp\":1800000100}");
	ck_assert_msg(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)) == 0, "%s", why);
	ck_assert(!c.all_sessions);
	ck_assert(jw_jwt_has_session(&c, "lab-a", 5));
	ck_assert(!jw_jwt_has_session(&c, "lab-b", 5));
	jw_jwt_claims_cleanup(&c);
	free(t);
	t = hs("{\"role\":\"edge\",\"exp\":1800000100}");
	refused(&k, t, "sessions is missing");
	free(t);
	t = hs("{\"role\":\"Edge\",\"sessions\":\"*\",\"exp\":1800000100}");
	refused(&k, t, "role must be viewer, observer, worker, station, edge or admin");
	free(t);
	jw_jwt_keys_cleanup(&k);
}
END_TEST

START_TEST(test_times)
{
	struct jw_jwt_keys k = keys_both();
	struct jw_jwt_claims c;
	char why[256];
	char *t;

	t = hs("{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1799999990}");
	refused(&k, t, "expired");
	free(t);
	/* Within the leeway (5 s) an exp just past still passes. */
	t = hs("{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1799999997}");
	ck_assert_int_eq(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)), 0);
	jw_jwt_claims_cleanup(&c);
	free(t);
	t = hs("{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"nbf\":1800000060}");
	refused(&k, t, "not valid before");
	free(t);
	t = hs("{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"iat\":1800000060}");
	refused(&k, t, "in the future");
	free(t);
	t = hs("{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"nbf\":1800000003,"
	       "\"iat\":1799999000.5}");
	ck_assert_int_eq(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)), 0);
	jw_jwt_claims_cleanup(&c);
	free(t);
	jw_jwt_keys_cleanup(&k);
}
END_TEST

/* A token with these time claims (JSON numbers as text) and role viewer. */
static char *timed(const char *exp, const char *nbf, const char *iat)
{
	char claims[512];
	int n = snprintf(
	        claims, sizeof(claims), "{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":%s", exp);

	if(nbf) {
		n += snprintf(claims + n, sizeof(claims) - (size_t)n, ",\"nbf\":%s", nbf);
	}
	if(iat) {
		n += snprintf(claims + n, sizeof(claims) - (size_t)n, ",\"iat\":%s", iat);
	}
	snprintf(claims + n, sizeof(claims) - (size_t)n, "}");
	return hs(claims);
}

/*
 * Time claims at the ends of int64 (and a leeway at its end too) are
 * judged without overflow: an exp far in the future is valid and its
 * stored exp leaves room for exp + leeway, one far in the past is expired,
 * an nbf or iat far in the future is refused and one far in the past is
 * fine. Under -fsanitize=undefined any overflow here aborts the test.
 */
START_TEST(test_time_extremes)
{
	static const char *const far_future[] = {"9223372036854775807", "9223372036854775806",
	        "9223372036854770000", "9000000000000000"};
	static const char *const far_past[] = {
	        "-9223372036854775808", "-9223372036854775807", "-9000000000000000", "0"};
	static const int64_t leeways[] = {5, 0, 3600, INT64_MAX};
	struct jw_jwt_keys k = keys_both();
	struct jw_jwt_claims c;
	char why[256];
	char *t;

	for(size_t l = 0; l < sizeof(leeways) / sizeof(leeways[0]); l++) {
		k.leeway_s = leeways[l];
		for(size_t i = 0; i < sizeof(far_future) / sizeof(far_future[0]); i++) {
			t = timed(far_future[i], NULL, NULL);
			ck_assert_msg(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)) == 0, "exp %s: %s",
			        far_future[i], why);
			ck_assert_int_gt(c.exp, NOW);
			/* What the broker adds to it later must not overflow. */
			ck_assert_int_le(c.exp, INT64_MAX - JW_JWT_LEEWAY_MAX);
			jw_jwt_claims_cleanup(&c);
			free(t);
			t = timed("1800000100", far_future[i], NULL);
			refused(&k, t, "not valid before");
			free(t);
			t = timed("1800000100", NULL, far_future[i]);
			refused(&k, t, "in the future");
			free(t);
		}
		for(size_t i = 0; i < sizeof(far_past) / sizeof(far_past[0]); i++) {
			t = timed(far_past[i], NULL, NULL);
			refused(&k, t, "expired");
			free(t);
			t = timed("1800000100", far_past[i], far_past[i]);
			ck_assert_msg(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)) == 0, "nbf/iat %s: %s",
			        far_past[i], why);
			jw_jwt_claims_cleanup(&c);
			free(t);
		}
	}
	/* The same as doubles at the edge of what is accepted as a time. */
	k.leeway_s = 5;
	t = timed("8.9e15", "-8.9e15", "-8.9e15");
	ck_assert_msg(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)) == 0, "%s", why);
	jw_jwt_claims_cleanup(&c);
	free(t);
	t = timed("-8.9e15", NULL, NULL);
	refused(&k, t, "expired");
	free(t);
	/* Beyond int64: not a time (libjwt already refuses the number). */
	t = timed("9223372036854775808", NULL, NULL);
	ck_assert_int_eq(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)), -1);
	ck_assert_ptr_null(c.sessions);
	free(t);
	t = timed("1e300", NULL, NULL);
	refused(&k, t, "exp is not a number");
	free(t);
	/* At the far end of the clock itself. */
	t = timed("9223372036854775807", NULL, NULL);
	ck_assert_int_eq(jw_jwt_verify(&k, t, INT64_MAX, &c, why, sizeof(why)), -1);
	ck_assert_int_eq(jw_jwt_verify(&k, t, INT64_MAX - 10, &c, why, sizeof(why)), 0);
	jw_jwt_claims_cleanup(&c);
	free(t);
	/* At the clock's first second, exp there is within the leeway. */
	t = timed("-9223372036854775808", "-9223372036854775808", "9223372036854775807");
	refused(&k, t, "expired");
	ck_assert_int_eq(jw_jwt_verify(&k, t, INT64_MIN, &c, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "in the future"));
	free(t);
	t = timed("-9223372036854775808", "-9223372036854775808", NULL);
	ck_assert_int_eq(jw_jwt_verify(&k, t, INT64_MIN, &c, why, sizeof(why)), 0);
	jw_jwt_claims_cleanup(&c);
	free(t);
	jw_jwt_keys_cleanup(&k);
}
END_TEST

START_TEST(test_alg_none_and_confusion)
{
	struct jw_jwt_keys k = keys_both();
	struct jw_jwt_keys only_pub;
	char err[256];
	char *t = sign(JWT_ALG_NONE, secret_path, "{\"role\":\"admin\",\"exp\":1800000100}");

	refused(&k, t, "unsigned token");
	free(t);
	refused(&k, "eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4iLCJleHAiOjE4MDAwMDAxMDB9.c2ln",
	        "algorithm none is not accepted");
	/* {"alg":"none","alg":"HS256"}: a header naming alg twice. */
	refused(&k,
	        "eyJhbGciOiJub25lIiwiYWxnIjoiSFMyNTYifQ.eyJyb2xlIjoiYWRtaW4iLCJleHAiOjE4MDAwMDAxMDB9."
	        "c2ln",
	        "token header: a member is named twice");
	/* The classic confusion: HS256 with the public key's PEM as secret. */
	memset(&only_pub, 0, sizeof(only_pub));
	ck_assert_int_eq(jw_jwt_keys_load(&only_pub, NULL, ec_pub, err, sizeof(err)), 0);
	t = sign(JWT_ALG_HS256, ec_pub, "{\"role\":\"admin\",\"exp\":1800000100}");
	refused(&only_pub, t, "algorithm HS256 is not accepted");
	/* With a secret configured too it is just a bad signature. */
	refused(&k, t, "bad signature");
	free(t);
	t = sign(JWT_ALG_HS384, secret_path, "{\"role\":\"admin\",\"exp\":1800000100}");
	refused(&k, t, "algorithm HS384 is not accepted");
	free(t);
	jw_jwt_keys_cleanup(&only_pub);
	jw_jwt_keys_cleanup(&k);
}
END_TEST

START_TEST(test_claim_types)
{
	static const struct {
		const char *claims;
		const char *why;
	} cases[] = {
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"]}", "exp is missing"},
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":\"1800000100\"}",
	                "exp is not a number"},
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":true}", "exp is not a number"},
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1e300}", "exp is not a number"},
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":null}", "exp is not a number"},
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"nbf\":\"x\"}",
	                "nbf is not a number"},
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"iat\":[1]}",
	                "iat is not a number"},
	        {"{\"sessions\":[\"s\"],\"exp\":1800000100}", "role is missing"},
	        {"{\"role\":5,\"sessions\":[\"s\"],\"exp\":1800000100}",
	                "role is missing or not a string"},
	        {"{\"role\":\"Admin\",\"sessions\":[\"s\"],\"exp\":1800000100}", "role must be viewer"},
	        {"{\"role\":\"viewer\",\"exp\":1800000100}", "sessions is missing"},
	        {"{\"role\":\"worker\",\"sessions\":{},\"exp\":1800000100}", "sessions must be a list"},
	        {"{\"role\":\"worker\",\"sessions\":\"all\",\"exp\":1800000100}",
	                "sessions must be a list"},
	        {"{\"role\":\"worker\",\"sessions\":[],\"exp\":1800000100}", "1 to 256"},
	        {"{\"role\":\"worker\",\"sessions\":[3],\"exp\":1800000100}",
	                "sessions[0] is not a string"},
	        {"{\"role\":\"worker\",\"sessions\":[\"+\"],\"exp\":1800000100}",
	                "sessions[0] is not a valid"},
	        {"{\"role\":\"worker\",\"sessions\":[\"ok\",\"#\"],\"exp\":1800000100}",
	                "sessions[1] is not a valid"},
	        {"{\"role\":\"worker\",\"sessions\":[\"a/b\"],\"exp\":1800000100}",
	                "sessions[0] is not a valid"},
	        {"{\"role\":\"worker\",\"sessions\":[\"*\"],\"exp\":1800000100}",
	                "sessions[0] is not a valid"},
	        {"{\"role\":\"worker\",\"sessions\":[\"\"],\"exp\":1800000100}",
	                "sessions[0] is not a valid"},
	        {"{\"role\":\"worker\",\"sessions\":[\"a\\u0000b\"],\"exp\":1800000100}", "malformed"},
	        {"{\"role\":\"worker\",\"sessions\":[\"$SYS\"],\"exp\":1800000100}",
	                "sessions[0] is not a valid"},
	        /* A claim named twice: which one counts is up to the parser, so
	         * neither does (RFC 7519 section 4). */
	        {"{\"role\":\"viewer\",\"role\":\"admin\",\"sessions\":[\"s\"],\"exp\":1800000100}",
	                "a member is named twice"},
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"exp\":1900000000}",
	                "a member is named twice"},
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"\\u0065xp\":"
	         "1900000000}",
	                "a member is named twice"},
	        {"{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"x\":{\"\xc3\xa9\":1,"
	         "\"\xc3\xa9\":2}}",
	                "a member is named twice"},
	};
	struct jw_jwt_keys k = keys_both();

	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = hs(cases[i].claims);
		refused(&k, t, cases[i].why);
		free(t);
	}
	/* 257 sessions, and a 129-character id. */
	{
		char claims[8192];
		size_t n = (size_t)snprintf(
		        claims, sizeof(claims), "{\"role\":\"viewer\",\"exp\":1800000100,\"sessions\":[");
		for(int i = 0; i < 257; i++) {
			n += (size_t)snprintf(claims + n, sizeof(claims) - n, "%s\"s%d\"", i ? "," : "", i);
		}
		snprintf(claims + n, sizeof(claims) - n, "]}");
		char *t = hs(claims);
		refused(&k, t, "1 to 256");
		free(t);
		memset(claims, 0, sizeof(claims));
		n = (size_t)snprintf(
		        claims, sizeof(claims), "{\"role\":\"viewer\",\"exp\":1800000100,\"sessions\":[\"");
		memset(claims + n, 'a', 129);
		snprintf(claims + n + 129, sizeof(claims) - n - 129, "\"]}");
		t = hs(claims);
		refused(&k, t, "sessions[0] is not a valid");
		free(t);
	}
	jw_jwt_keys_cleanup(&k);
}
END_TEST

START_TEST(test_issuer_audience)
{
	struct jw_jwt_keys k = keys_both();
	struct jw_jwt_claims c;
	char why[256];
	char *t;

	k.issuer = strdup("https://id.example");
	k.audience = strdup("jobwire");
	t = hs("{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"iss\":\"https://"
	       "id.example\",\"aud\":[\"x\",\"jobwire\"]}");
	ck_assert_msg(jw_jwt_verify(&k, t, NOW, &c, why, sizeof(why)) == 0, "%s", why);
	jw_jwt_claims_cleanup(&c);
	free(t);
	t = hs("{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"iss\":\"https://"
	       "id.example\",\"aud\":\"other\"}");
	refused(&k, t, "aud");
	free(t);
	t = hs("{\"role\":\"viewer\",\"sessions\":[\"s\"],\"exp\":1800000100,\"iss\":7,\"aud\":"
	       "\"jobwire\"}");
	refused(&k, t, "iss");
	free(t);
	jw_jwt_keys_cleanup(&k);
}
END_TEST

START_TEST(test_garbage)
{
	static const char *bad[] = {
	        "",
	        ".",
	        "..",
	        "...",
	        "a.b.c",
	        "a.b.c.d",
	        "eyJhbGciOiJIUzI1NiJ9",
	        "eyJhbGciOiJIUzI1NiJ9..",
	        "e30.e30.e30",
	        "W10.e30.e30",
	        "eyJhbGciOjF9.e30.e30",
	        "!!!.e30.e30",
	        "eyJhbGciOiJIUzI1NiJ9.!!!.e30",
	        "eyJhbGciOiJIUzI1NiJ9.e30.!!!",
	        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.AAAA",
	        "eyJhbGciOiJIUzI1NiJ9.W10.AAAA",
	        "eyJhbGci.e30.AAAA",
	        "A.e30.AAAA",
	};
	struct jw_jwt_keys k = keys_both();
	struct jw_jwt_claims c;
	char why[256];
	char *huge = malloc(JW_JWT_MAX_TOKEN + 100);

	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(
		        jw_jwt_verify(&k, bad[i], NOW, &c, why, sizeof(why)) == -1, "accepted %s", bad[i]);
		if(strlen(bad[i]) > 4) {
			ck_assert_ptr_null(strstr(why, bad[i]));
		}
	}
	ck_assert_int_eq(jw_jwt_verify(&k, NULL, NOW, &c, why, sizeof(why)), -1);
	memset(huge, 'A', JW_JWT_MAX_TOKEN + 99);
	huge[JW_JWT_MAX_TOKEN + 99] = '\0';
	refused(&k, huge, "longer than");
	/* A header that decodes to more than the header buffer. */
	memset(huge, 'e', 3000);
	memcpy(huge + 3000, ".e30.AAAA", 10);
	refused(&k, huge, "header");
	/* Random bytes with dots in them never pass and never crash. */
	srand(7);
	for(int i = 0; i < 3000; i++) {
		size_t n = (size_t)(rand() % 400);
		for(size_t j = 0; j < n; j++) {
			int r = rand() % 70;
			huge[j] = r < 4 ? '.'
			                : (char)("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz012345678"
			                         "9-_=+/\x01\xff"[r % 70]);
		}
		huge[n] = '\0';
		ck_assert_int_eq(jw_jwt_verify(&k, huge, NOW, &c, why, sizeof(why)), -1);
	}
	free(huge);
	jw_jwt_keys_cleanup(&k);
}
END_TEST

START_TEST(test_key_files)
{
	struct jw_jwt_keys k;
	char err[512], path[600];

	setup_files();
	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(jw_jwt_keys_load(&k, NULL, NULL, err, sizeof(err)), -1);
	ck_assert_int_eq(jw_jwt_keys_load(&k, "/nonexistent/secret", NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot read /nonexistent/secret: No such file"));
	snprintf(path, sizeof(path), "%s/short", tmpdir);
	write_file(path, "short-secret\n", 13);
	ck_assert_int_eq(jw_jwt_keys_load(&k, path, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "at least 32 bytes, it has 12"));
	ck_assert_int_eq(jw_jwt_keys_load(&k, NULL, ec_priv, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "is not a PEM public key"));
	ck_assert_int_eq(jw_jwt_keys_load(&k, NULL, p384_pub, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "must be on P-256"));
	ck_assert_int_eq(jw_jwt_keys_load(&k, NULL, rsa1024_pub, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "at least 2048 bits"));
	ck_assert_int_eq(jw_jwt_keys_load(&k, NULL, tmpdir, err, sizeof(err)), -1);
	ck_assert_int_eq(jw_jwt_keys_load(&k, secret_path, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(k.hs_len, strlen(SECRET));
	jw_jwt_keys_cleanup(&k);
}
END_TEST

/* Who a token speaks for: its subject and its set of sessions. */
static void claims_of(const struct jw_jwt_keys *k, const char *claims, struct jw_jwt_claims *c)
{
	char why[256];
	char *t = hs(claims);

	ck_assert_msg(jw_jwt_verify(k, t, NOW, c, why, sizeof(why)) == 0, "%s: %s", claims, why);
	free(t);
}

START_TEST(test_owner)
{
	struct jw_jwt_keys k = keys_both();
	struct jw_jwt_claims a, b, c, d, e, f, g, h;

	claims_of(&k,
	        "{\"role\":\"worker\",\"sub\":\"alice\",\"sessions\":[\"s2\",\"s1\",\"s2\"],\"exp\":"
	        "1800000100}",
	        &a);
	ck_assert_str_eq(a.subject, "alice");
	ck_assert_uint_eq(a.nsessions, 2);
	ck_assert_str_eq(a.sessions[0], "s1");
	ck_assert_str_eq(a.sessions[1], "s2");
	/* Another role, another expiry, another order: the same owner. */
	claims_of(&k,
	        "{\"role\":\"viewer\",\"sub\":\"alice\",\"sessions\":[\"s1\",\"s2\"],\"exp\":"
	        "1800000200}",
	        &b);
	ck_assert(jw_jwt_same_owner(&a, &b));
	ck_assert(jw_jwt_same_owner(&b, &a));
	claims_of(&k,
	        "{\"role\":\"worker\",\"sub\":\"bob\",\"sessions\":[\"s1\",\"s2\"],\"exp\":1800000100}",
	        &c);
	ck_assert(!jw_jwt_same_owner(&a, &c));
	claims_of(&k,
	        "{\"role\":\"worker\",\"sub\":\"alice\",\"sessions\":[\"s1\"],\"exp\":1800000100}", &d);
	ck_assert(!jw_jwt_same_owner(&a, &d));
	ck_assert(!jw_jwt_same_owner(&d, &a));
	claims_of(&k, "{\"role\":\"worker\",\"sessions\":[\"s1\",\"s2\"],\"exp\":1800000100}", &e);
	ck_assert_ptr_null(e.subject);
	ck_assert(!jw_jwt_same_owner(&a, &e));
	ck_assert(!jw_jwt_same_owner(&e, &a));
	claims_of(&k, "{\"role\":\"worker\",\"sessions\":[\"s2\",\"s1\"],\"exp\":1800000300}", &f);
	ck_assert(jw_jwt_same_owner(&e, &f));
	claims_of(&k, "{\"role\":\"worker\",\"sub\":\"alice\",\"sessions\":\"*\",\"exp\":1800000100}",
	        &g);
	ck_assert(!jw_jwt_same_owner(&a, &g));
	claims_of(&k, "{\"role\":\"admin\",\"sub\":\"alice\",\"exp\":1800000100}", &h);
	ck_assert(!jw_jwt_same_owner(&g, &h));
	ck_assert(jw_jwt_same_owner(&h, &h));
	/* A subject is a string; anything else is refused, not ignored. */
	{
		char *t;

		t = hs("{\"role\":\"worker\",\"sub\":42,\"sessions\":[\"s1\"],\"exp\":1800000100}");
		refused(&k, t, "claim sub is not a string");
		free(t);
	}
	jw_jwt_claims_cleanup(&a);
	jw_jwt_claims_cleanup(&b);
	jw_jwt_claims_cleanup(&c);
	jw_jwt_claims_cleanup(&d);
	jw_jwt_claims_cleanup(&e);
	jw_jwt_claims_cleanup(&f);
	jw_jwt_claims_cleanup(&g);
	jw_jwt_claims_cleanup(&h);
	jw_jwt_claims_cleanup(&h);
	jw_jwt_keys_cleanup(&k);
}
END_TEST

static Suite *jwt_suite(void)
{
	Suite *s = suite_create("jwt");
	TCase *tc = tcase_create("tokens");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_valid_hs256_viewer);
	tcase_add_test(tc, test_valid_star_admin_es256_rs256);
	tcase_add_test(tc, test_role_edge);
	tcase_add_test(tc, test_times);
	tcase_add_test(tc, test_time_extremes);
	tcase_add_test(tc, test_alg_none_and_confusion);
	tcase_add_test(tc, test_claim_types);
	tcase_add_test(tc, test_issuer_audience);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_key_files);
	tcase_add_test(tc, test_owner);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jwt_suite());
	int failed;

	/* One process: the key files are made once. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if(system(cmd) != 0) {
			fprintf(stderr, "could not remove %s\n", tmpdir);
		}
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
