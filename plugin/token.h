/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * JWT verification for jobwire's optional authentication: key loading and
 * the check of one token into its claims (role, sessions, expiry). No
 * broker dependency, so the unit tests drive it directly; plugin/auth.c
 * wires it to mosquitto's BASIC_AUTH and ACL_CHECK events.
 */
#ifndef JW_TOKEN_H
#define JW_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest token accepted; anything longer is refused before decoding. */
#define JW_JWT_MAX_TOKEN 8192
/* Most session ids one token may carry. */
#define JW_JWT_MAX_SESSIONS 256
/* Shortest HS256 secret (RFC 7518 3.2: at least the hash size). */
#define JW_JWT_MIN_SECRET 32
/* Largest leeway (plugin_opt_auth_jwt_leeway), in seconds. */
#define JW_JWT_LEEWAY_MAX 3600

enum jw_role {
	JW_ROLE_NONE = 0,
	JW_ROLE_VIEWER,
	JW_ROLE_WORKER,
	JW_ROLE_ADMIN,
	JW_ROLE_OBSERVER, /* reads as a viewer does, publishes nothing */
	JW_ROLE_STATION,  /* a station (claim "station"): its own status, and a worker's rights */
	JW_ROLE_EDGE,     /* an edge broker's bridge: reads its sessions' events, state,
	                     station views and every client's replies; publishes
	                     control and history requests (docs/operations.md, "Scaling") */
};

enum jw_pubkey_alg {
	JW_PUBKEY_NONE = 0,
	JW_PUBKEY_RS256, /* RSA key, at least 2048 bits */
	JW_PUBKEY_ES256, /* EC key on P-256 */
};

struct jw_jwt_keys {
	unsigned char *hs_secret; /* NULL: HS256 tokens refused */
	size_t hs_len;
	unsigned char *pub_pem; /* NUL-terminated PEM; NULL: RS/ES refused */
	size_t pub_len;
	enum jw_pubkey_alg pub_alg;
	char *issuer;     /* NULL: iss not checked */
	char *audience;   /* NULL: aud not checked */
	int64_t leeway_s; /* clock skew allowed on exp/nbf/iat;
	                     0..JW_JWT_LEEWAY_MAX (larger counts as
	                     the maximum) */
};

struct jw_jwt_claims {
	enum jw_role role;
	bool all_sessions; /* "sessions": "*" */
	char **sessions;   /* valid topic ids, sorted, no repeats, owned */
	size_t nsessions;
	char *subject; /* "sub", owned; NULL when absent */
	char *station; /* "station" (role station: required, an id), owned */
	int64_t exp;   /* seconds since the epoch; at most
	                  INT64_MAX - JW_JWT_LEEWAY_MAX, so that
	                  exp + leeway cannot overflow */
};

/*
 * Loads the HS256 secret (raw bytes; one trailing newline is dropped)
 * and/or the PEM public key, whose type decides the algorithm it verifies
 * (RSA -> RS256, EC P-256 -> ES256). Either path may be NULL, not both.
 * On error returns -1 with a sentence in err (never key material) and
 * leaves *k cleaned up. Call jw_jwt_keys_cleanup when done.
 */
int jw_jwt_keys_load(
        struct jw_jwt_keys *k, const char *hs_file, const char *pub_file, char *err, size_t errlen);

/* Frees what jw_jwt_keys_load stored; safe twice. issuer and audience
 * are freed too. */
void jw_jwt_keys_cleanup(struct jw_jwt_keys *k);

/*
 * Checks token (NUL-terminated, untrusted) at wall-clock time now: length,
 * header, algorithm against the configured key types (the header's alg
 * picks which key is used only among the keys whose type matches it, so a
 * public key is never used as an HMAC secret), signature, exp (required),
 * nbf and iat (not in the future), iss and aud when configured, role,
 * sessions and sub (a string when present). Returns 0 with *out filled (free with
 * jw_jwt_claims_cleanup), or -1 with a reason in why that never quotes the token.
 */
int jw_jwt_verify(const struct jw_jwt_keys *k, const char *token, int64_t now,
        struct jw_jwt_claims *out, char *why, size_t whylen);

/* Frees the session list and the subject; safe twice. */
void jw_jwt_claims_cleanup(struct jw_jwt_claims *c);

/*
 * Whether two tokens speak for the same owner: the same subject (or both
 * without one) and the same sessions (as sets: order and repeats do not
 * matter; "*" only equals "*"; a token without a sessions claim only
 * equals another without one). The role and the times do not count, so a
 * worker's renewed token is the same owner. A client id in use can only
 * be taken over by a token of the same owner.
 */
bool jw_jwt_same_owner(const struct jw_jwt_claims *a, const struct jw_jwt_claims *b);

/* Whether the claims grant session (exact id, or "*"). */
bool jw_jwt_has_session(const struct jw_jwt_claims *c, const char *session, size_t len);

const char *jw_jwt_role_name(enum jw_role r);

#endif
