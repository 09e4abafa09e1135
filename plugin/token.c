/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Token checks for JWT authentication (see token.h). libjwt verifies the
 * signature; everything it does not check, and everything it would check
 * unsafely, is done here: the algorithm is chosen by the configured key's
 * type, never by the token alone (libjwt 1.10 would verify an "HS256"
 * token against an RSA public key used as an HMAC secret), and every
 * claim is type-checked by hand.
 */
#include "token.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "json.h"
#include "topic.h"

#define MAX_KEY_FILE 65536
/* Nesting allowed in a token's header and claims: far more than any
 * real token has, and the strict parser stops there. */
#define TOKEN_JSON_DEPTH 16

static int read_file(
        const char *path, unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n;
	struct stat st;

	if(!f) {
		snprintf(err, errlen,
		        "cannot read %s: %s (the broker reads it as the user it runs as, usually "
		        "mosquitto)",
		        path, strerror(errno));
		return -1;
	}
	if(fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		goto fail;
	}
	if(st.st_size <= 0 || st.st_size > MAX_KEY_FILE) {
		snprintf(err, errlen, "%s must hold 1 to %d bytes, has %lld", path, MAX_KEY_FILE,
		        (long long)st.st_size);
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if(!buf) {
		snprintf(err, errlen, "out of memory reading %s", path);
		goto fail;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if(n != (size_t)st.st_size) {
		snprintf(err, errlen, "short read on %s", path);
		goto fail;
	}
	buf[n] = '\0';
	fclose(f);
	*out = buf;
	*outlen = n;
	return 0;
fail:
	free(buf);
	fclose(f);
	return -1;
}

static int classify_pubkey(struct jw_jwt_keys *k, const char *path, char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(k->pub_pem, (int)k->pub_len);
	EVP_PKEY *pkey = NULL;
	int rc = -1;

	if(!bio) {
		snprintf(err, errlen, "out of memory reading %s", path);
		return -1;
	}
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if(!pkey) {
		snprintf(err, errlen, "%s is not a PEM public key (-----BEGIN PUBLIC KEY-----)", path);
		goto out;
	}
	if(EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
		if(EVP_PKEY_get_bits(pkey) < 2048) {
			snprintf(err, errlen, "%s: RSA keys must have at least 2048 bits, this one has %d",
			        path, EVP_PKEY_get_bits(pkey));
			goto out;
		}
		k->pub_alg = JW_PUBKEY_RS256;
	} else if(EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		char group[64] = "";
		size_t glen = 0;

		if(!EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) ||
		        (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)) {
			snprintf(err, errlen, "%s: EC keys must be on P-256 (ES256), this one is on %s", path,
			        group[0] ? group : "an unknown curve");
			goto out;
		}
		k->pub_alg = JW_PUBKEY_ES256;
	} else {
		snprintf(err, errlen, "%s: only RSA (RS256) and EC P-256 (ES256) public keys are supported",
		        path);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return rc;
}

int jw_jwt_keys_load(
        struct jw_jwt_keys *k, const char *hs_file, const char *pub_file, char *err, size_t errlen)
{
	if(!hs_file && !pub_file) {
		snprintf(err, errlen, "no secret or key file given");
		return -1;
	}
	if(hs_file) {
		if(read_file(hs_file, &k->hs_secret, &k->hs_len, err, errlen)) {
			goto fail;
		}
		/* Files written by echo or an editor end in a newline that is
		 * not part of the secret the token issuer uses. */
		if(k->hs_len && k->hs_secret[k->hs_len - 1] == '\n') {
			k->hs_len--;
			if(k->hs_len && k->hs_secret[k->hs_len - 1] == '\r') {
				k->hs_len--;
			}
		}
		if(k->hs_len < JW_JWT_MIN_SECRET) {
			snprintf(err, errlen, "%s: the HS256 secret must be at least %d bytes, it has %zu",
			        hs_file, JW_JWT_MIN_SECRET, k->hs_len);
			goto fail;
		}
	}
	if(pub_file) {
		if(read_file(pub_file, &k->pub_pem, &k->pub_len, err, errlen) ||
		        classify_pubkey(k, pub_file, err, errlen)) {
			goto fail;
		}
	}
	return 0;
fail:
	jw_jwt_keys_cleanup(k);
	return -1;
}

void jw_jwt_keys_cleanup(struct jw_jwt_keys *k)
{
	if(k->hs_secret) {
		memset(k->hs_secret, 0, k->hs_len);
	}
	free(k->hs_secret);
	free(k->pub_pem);
	free(k->issuer);
	free(k->audience);
	k->hs_secret = NULL;
	k->pub_pem = NULL;
	k->issuer = NULL;
	k->audience = NULL;
	k->hs_len = k->pub_len = 0;
	k->pub_alg = JW_PUBKEY_NONE;
}

void jw_jwt_claims_cleanup(struct jw_jwt_claims *c)
{
	for(size_t i = 0; i < c->nsessions; i++) {
		free(c->sessions[i]);
	}
	free(c->sessions);
	free(c->subject);
	free(c->station);
	c->station = NULL;
	c->sessions = NULL;
	c->nsessions = 0;
	c->subject = NULL;
}

bool jw_jwt_same_owner(const struct jw_jwt_claims *a, const struct jw_jwt_claims *b)
{
	if((a->subject == NULL) != (b->subject == NULL) ||
	        (a->subject && strcmp(a->subject, b->subject) != 0)) {
		return false;
	}
	if(a->all_sessions != b->all_sessions || a->nsessions != b->nsessions) {
		return false;
	}
	/* Both lists are sorted without repeats (parse_sessions). */
	for(size_t i = 0; i < a->nsessions; i++) {
		if(strcmp(a->sessions[i], b->sessions[i]) != 0) {
			return false;
		}
	}
	return true;
}

const char *jw_jwt_role_name(enum jw_role r)
{
	switch(r) {
		case JW_ROLE_VIEWER:
			return "viewer";
		case JW_ROLE_WORKER:
			return "worker";
		case JW_ROLE_ADMIN:
			return "admin";
		case JW_ROLE_OBSERVER:
			return "observer";
		case JW_ROLE_STATION:
			return "station";
		case JW_ROLE_EDGE:
			return "edge";
		default:
			return "none";
	}
}

bool jw_jwt_has_session(const struct jw_jwt_claims *c, const char *session, size_t len)
{
	if(c->all_sessions) {
		return true;
	}
	for(size_t i = 0; i < c->nsessions; i++) {
		if(strlen(c->sessions[i]) == len && !memcmp(c->sessions[i], session, len)) {
			return true;
		}
	}
	return false;
}

static int b64url_value(unsigned char c)
{
	if(c >= 'A' && c <= 'Z')
		return c - 'A';
	if(c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if(c >= '0' && c <= '9')
		return c - '0' + 52;
	if(c == '-')
		return 62;
	if(c == '_')
		return 63;
	return -1;
}

/* Decodes unpadded base64url in[0..len) into out (NUL-terminated).
 * Returns the decoded length or -1. */
static long b64url_decode(const char *in, size_t len, char *out, size_t outcap)
{
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	if(len % 4 == 1) {
		return -1;
	}
	for(size_t i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)in[i]);

		if(v < 0) {
			return -1;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if(bits >= 8) {
			bits -= 8;
			if(o + 1 >= outcap) {
				return -1;
			}
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return (long)o;
}

/* A NumericDate member: absent (0, *present false), or a finite number
 * that fits. Returns -1 on a wrong type. */
static int get_time(struct json_object *body, const char *name, int64_t *out, bool *present)
{
	struct json_object *v;
	double d;

	*present = false;
	if(!json_object_object_get_ex(body, name, &v)) {
		return 0;
	}
	if(json_object_is_type(v, json_type_int)) {
		errno = 0;
		*out = json_object_get_int64(v);
		if(errno) {
			return -1;
		}
	} else if(json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if(!isfinite(d) || d < -9.0e15 || d > 9.0e15) {
			return -1;
		}
		*out = (int64_t)floor(d);
	} else {
		return -1;
	}
	*present = true;
	return 0;
}

static int check_audience(struct json_object *body, const char *want)
{
	struct json_object *aud;

	if(!json_object_object_get_ex(body, "aud", &aud)) {
		return -1;
	}
	if(json_object_is_type(aud, json_type_string)) {
		return strcmp(json_object_get_string(aud), want) ? -1 : 0;
	}
	if(json_object_is_type(aud, json_type_array)) {
		for(size_t i = 0; i < json_object_array_length(aud); i++) {
			struct json_object *e = json_object_array_get_idx(aud, i);

			if(json_object_is_type(e, json_type_string) &&
			        !strcmp(json_object_get_string(e), want)) {
				return 0;
			}
		}
	}
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int parse_sessions(struct json_object *v, struct jw_jwt_claims *c, char *why, size_t whylen)
{
	size_t n;

	if(json_object_is_type(v, json_type_string)) {
		if(strcmp(json_object_get_string(v), "*") != 0) {
			snprintf(why, whylen, "claim sessions must be a list of session ids or \"*\"");
			return -1;
		}
		c->all_sessions = true;
		return 0;
	}
	if(!json_object_is_type(v, json_type_array)) {
		snprintf(why, whylen, "claim sessions must be a list of session ids or \"*\"");
		return -1;
	}
	n = json_object_array_length(v);
	if(n == 0 || n > JW_JWT_MAX_SESSIONS) {
		snprintf(why, whylen, "claim sessions must list 1 to %d session ids", JW_JWT_MAX_SESSIONS);
		return -1;
	}
	c->sessions = calloc(n, sizeof(*c->sessions));
	if(!c->sessions) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for(size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *s;

		if(!json_object_is_type(e, json_type_string)) {
			snprintf(why, whylen, "claim sessions[%zu] is not a string", i);
			return -1;
		}
		s = json_object_get_string(e);
		/* Ids are 1-128 of [A-Za-z0-9._-]: no '+', '#' or '/' can widen
		 * what the token grants, and "*" only means all as the whole claim. */
		if(strlen(s) != (size_t)json_object_get_string_len(e) || !jw_topic_id_valid(s)) {
			snprintf(why, whylen,
			        "claim sessions[%zu] is not a valid session id (1-%d of A-Z a-z 0-9 . _ -)", i,
			        JW_ID_MAX);
			return -1;
		}
		c->sessions[i] = strdup(s);
		if(!c->sessions[i]) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		c->nsessions = i + 1;
	}
	/* Sorted without repeats, so two tokens for the same sessions compare
	 * equal however their lists are written (jw_jwt_same_owner). */
	qsort(c->sessions, c->nsessions, sizeof(*c->sessions), cmp_str);
	n = 0;
	for(size_t i = 0; i < c->nsessions; i++) {
		if(n > 0 && !strcmp(c->sessions[n - 1], c->sessions[i])) {
			free(c->sessions[i]);
			continue;
		}
		c->sessions[n++] = c->sessions[i];
	}
	c->nsessions = n;
	return 0;
}

/* a + b and a - b clamped to int64: time claims come from the token and
 * may sit at either end of the range. */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if(__builtin_add_overflow(a, b, &r)) {
		return b > 0 ? INT64_MAX : INT64_MIN;
	}
	return r;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
	int64_t r;

	if(__builtin_sub_overflow(a, b, &r)) {
		return b < 0 ? INT64_MAX : INT64_MIN;
	}
	return r;
}

/* The role claim, and for a station its station claim, into c. 0, or -1
 * with why filled. */
static int check_role(struct json_object *body, struct jw_jwt_claims *c, char *why, size_t whylen)
{
	struct json_object *v;
	const char *role;

	if(!json_object_object_get_ex(body, "role", &v) || !json_object_is_type(v, json_type_string)) {
		snprintf(why, whylen, "claim role is missing or not a string");
		return -1;
	}
	role = json_object_get_string(v);
	if(!strcmp(role, "viewer")) {
		c->role = JW_ROLE_VIEWER;
	} else if(!strcmp(role, "worker")) {
		c->role = JW_ROLE_WORKER;
	} else if(!strcmp(role, "admin")) {
		c->role = JW_ROLE_ADMIN;
	} else if(!strcmp(role, "observer")) {
		c->role = JW_ROLE_OBSERVER;
	} else if(!strcmp(role, "station")) {
		c->role = JW_ROLE_STATION;
	} else if(!strcmp(role, "edge")) {
		c->role = JW_ROLE_EDGE;
	} else {
		snprintf(
		        why, whylen, "claim role must be viewer, observer, worker, station, edge or admin");
		return -1;
	}
	/* A station's token names the one station whose status it publishes. */
	if(c->role == JW_ROLE_STATION) {
		if(!json_object_object_get_ex(body, "station", &v) ||
		        !json_object_is_type(v, json_type_string) ||
		        !jw_topic_id_valid(json_object_get_string(v)) ||
		        strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
			snprintf(why, whylen, "claim station is missing or not a station id");
			return -1;
		}
		c->station = strdup(json_object_get_string(v));
		if(!c->station) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int check_claims(const struct jw_jwt_keys *k, struct json_object *body, int64_t now,
        struct jw_jwt_claims *c, char *why, size_t whylen)
{
	struct json_object *v;
	int64_t t = 0;
	/* The option is bounded by JW_JWT_LEEWAY_MAX; so is what is used. */
	int64_t leeway = k->leeway_s < 0                   ? 0
	                 : k->leeway_s > JW_JWT_LEEWAY_MAX ? JW_JWT_LEEWAY_MAX
	                                                   : k->leeway_s;
	bool present;

	if(!json_object_is_type(body, json_type_object)) {
		snprintf(why, whylen, "claims are not a JSON object");
		return -1;
	}
	if(get_time(body, "exp", &t, &present)) {
		snprintf(why, whylen, "claim exp is not a number");
		return -1;
	}
	if(!present) {
		snprintf(why, whylen, "claim exp is missing");
		return -1;
	}
	if(now >= sat_add(t, leeway)) {
		snprintf(why, whylen, "token expired %lld s ago", (long long)sat_sub(now, t));
		return -1;
	}
	/* Callers add the leeway to it (the broker's expiry checks): an exp
	 * that far out means the same, and leaves room for that. */
	c->exp = t > INT64_MAX - JW_JWT_LEEWAY_MAX ? INT64_MAX - JW_JWT_LEEWAY_MAX : t;
	if(get_time(body, "nbf", &t, &present)) {
		snprintf(why, whylen, "claim nbf is not a number");
		return -1;
	}
	if(present && t > sat_add(now, leeway)) {
		snprintf(why, whylen, "token not valid before %lld s from now", (long long)sat_sub(t, now));
		return -1;
	}
	if(get_time(body, "iat", &t, &present)) {
		snprintf(why, whylen, "claim iat is not a number");
		return -1;
	}
	if(present && t > sat_add(now, leeway)) {
		snprintf(why, whylen, "token issued %lld s in the future", (long long)sat_sub(t, now));
		return -1;
	}
	if(k->issuer) {
		if(!json_object_object_get_ex(body, "iss", &v) ||
		        !json_object_is_type(v, json_type_string) ||
		        strcmp(json_object_get_string(v), k->issuer) != 0) {
			snprintf(why, whylen, "claim iss is missing or not the configured issuer");
			return -1;
		}
	}
	if(k->audience && check_audience(body, k->audience)) {
		snprintf(why, whylen, "claim aud is missing or does not name the configured audience");
		return -1;
	}
	if(check_role(body, c, why, whylen)) {
		return -1;
	}
	if(json_object_object_get_ex(body, "sessions", &v)) {
		if(parse_sessions(v, c, why, whylen)) {
			return -1;
		}
	} else if(c->role != JW_ROLE_ADMIN) {
		snprintf(why, whylen, "claim sessions is missing");
		return -1;
	}
	/* The subject decides who owns a client id in use (auth.c). */
	if(json_object_object_get_ex(body, "sub", &v)) {
		if(!json_object_is_type(v, json_type_string) ||
		        strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
			snprintf(why, whylen, "claim sub is not a string");
			return -1;
		}
		c->subject = strdup(json_object_get_string(v));
		if(!c->subject) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* The alg the key configuration allows for the header's alg, or
 * JWT_ALG_INVAL with why filled. */
static jwt_alg_t pick_alg(const struct jw_jwt_keys *k, const char *alg, const unsigned char **key,
        size_t *keylen, char *why, size_t whylen)
{
	if(!strcmp(alg, "HS256")) {
		if(k->hs_secret) {
			*key = k->hs_secret;
			*keylen = k->hs_len;
			return JWT_ALG_HS256;
		}
	} else if(!strcmp(alg, "RS256")) {
		if(k->pub_alg == JW_PUBKEY_RS256) {
			*key = k->pub_pem;
			*keylen = k->pub_len;
			return JWT_ALG_RS256;
		}
	} else if(!strcmp(alg, "ES256")) {
		if(k->pub_alg == JW_PUBKEY_ES256) {
			*key = k->pub_pem;
			*keylen = k->pub_len;
			return JWT_ALG_ES256;
		}
	}
	/* The alg comes from the token: print it only when it is short and
	 * plain, so nothing the client sent is echoed at length. */
	if(strlen(alg) <= 8 &&
	        strspn(alg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
	                strlen(alg)) {
		snprintf(why, whylen, "algorithm %s is not accepted by this broker's key configuration",
		        alg);
	} else {
		snprintf(why, whylen, "algorithm is not accepted by this broker's key configuration");
	}
	return JWT_ALG_INVAL;
}

/*
 * Parses a decoded header or claims segment with the strict parser
 * (RFC 8259; a member named twice is refused, as RFC 7519 section 4
 * allows, so that no two readers of the token can disagree on which
 * value counts). what names the segment in why, which never quotes the
 * token (nor the parser's message, which would). Returns the object or
 * NULL.
 */
static struct json_object *parse_segment(
        const char *text, size_t len, const char *what, char *why, size_t whylen)
{
	struct json_object *o = NULL;
	struct jw_json_error jerr;

	if(jw_json_parse(text, len, TOKEN_JSON_DEPTH, &o, &jerr) < 0) {
		if(jerr.reason == JW_REASON_DUPLICATE_KEY) {
			snprintf(why, whylen, "%s: a member is named twice", what);
		} else {
			snprintf(why, whylen, "%s: not valid JSON", what);
		}
		return NULL;
	}
	if(!json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "%s: not a JSON object", what);
		json_object_put(o);
		return NULL;
	}
	return o;
}

int jw_jwt_verify(const struct jw_jwt_keys *k, const char *token, int64_t now,
        struct jw_jwt_claims *out, char *why, size_t whylen)
{
	char header[1024];
	/* The claims as signed: base64url makes 4 characters of 3 bytes. */
	char claims[JW_JWT_MAX_TOKEN / 4 * 3 + 4];
	long hlen, clen;
	const char *dot1, *dot2;
	size_t len;
	struct json_object *hdr = NULL, *body = NULL, *algv;
	const unsigned char *key = NULL;
	size_t keylen = 0;
	jwt_alg_t alg;
	jwt_t *jwt = NULL;
	int rc = -1;
	int err;

	memset(out, 0, sizeof(*out));
	if(!token || !token[0]) {
		snprintf(why, whylen, "no token (the token is the MQTT password)");
		return -1;
	}
	len = strnlen(token, JW_JWT_MAX_TOKEN + 1);
	if(len > JW_JWT_MAX_TOKEN) {
		snprintf(why, whylen, "token longer than %d bytes", JW_JWT_MAX_TOKEN);
		return -1;
	}
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if(!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
		snprintf(why, whylen, "not a JWT (header.claims.signature)");
		return -1;
	}
	if(dot2[1] == '\0') {
		snprintf(why, whylen, "unsigned token");
		return -1;
	}
	hlen = b64url_decode(token, (size_t)(dot1 - token), header, sizeof(header));
	if(hlen < 0) {
		snprintf(why, whylen, "token header is not base64url");
		return -1;
	}
	hdr = parse_segment(header, (size_t)hlen, "token header", why, whylen);
	if(!hdr) {
		goto out;
	}
	if(!json_object_object_get_ex(hdr, "alg", &algv) ||
	        !json_object_is_type(algv, json_type_string)) {
		snprintf(why, whylen, "token header is not a JSON object with an alg");
		goto out;
	}
	alg = pick_alg(k, json_object_get_string(algv), &key, &keylen, why, whylen);
	if(alg == JWT_ALG_INVAL) {
		goto out;
	}
	err = jwt_decode(&jwt, token, key, (int)keylen);
	if(err || !jwt) {
		snprintf(why, whylen, err == ENOMEM ? "out of memory" : "bad signature or malformed token");
		goto out;
	}
	/* Belt and braces: what libjwt verified with must be what we chose. */
	if(jwt_get_alg(jwt) != alg) {
		snprintf(why, whylen, "token algorithm changed during decoding");
		goto out;
	}
	/* The claims are read from the signed text itself, not from libjwt's
	 * copy, which has already kept one of any repeated members. */
	clen = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), claims, sizeof(claims));
	if(clen < 0) {
		snprintf(why, whylen, "claims are not base64url");
		goto out;
	}
	body = parse_segment(claims, (size_t)clen, "token claims", why, whylen);
	if(!body) {
		goto out;
	}
	if(check_claims(k, body, now, out, why, whylen)) {
		jw_jwt_claims_cleanup(out);
		goto out;
	}
	rc = 0;
out:
	jwt_free(jwt);
	json_object_put(hdr);
	json_object_put(body);
	return rc;
}
