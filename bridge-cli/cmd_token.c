/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire token: mints an HS256 JWT for the broker's JWT mode (claims
 * role, sessions, exp, iat and optional iss, aud, sub), for development and
 * tests. Production tokens come from your identity provider.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <jwt.h>

#include "cli.h"
#include "topic.h"

static const char help[] =
        "usage: jobwire token --role ROLE --sessions S1,S2|'*' [--ttl 1h] --secret-file F\n"
        "\n"
        "Prints an HS256-signed JWT for the broker's JWT mode. Pass it as the MQTT\n"
        "password (any user name), e.g. jobwire watch --token \"$(jobwire token ...)\".\n"
        "\n"
        "      --role ROLE        viewer, observer, worker, station, edge or admin\n"
        "      --station ID       the station a station token speaks for (role station)\n"
        "      --sessions LIST    comma-separated session ids, or * for all\n"
        "      --ttl T            lifetime, e.g. 90s, 30m, 1h, 7d [1h]\n"
        "      --secret-file F    the shared HS256 secret [JOBWIRE_JWT_SECRET_FILE];\n"
        "                         one trailing newline is not part of the secret\n"
        "      --issuer ISS       iss claim; --audience AUD aud claim; --subject SUB sub claim\n"
        "\n"
        "Exit status: 0 printed, 64 bad arguments or unreadable secret.\n";

enum { O_ROLE = 1, O_SESSIONS, O_TTL, O_SECRET, O_ISS, O_AUD, O_SUB, O_STATION, O_HELP };

static const struct jw_opt opts[] = {
        {"role", 0, 1, O_ROLE},
        {"sessions", 0, 1, O_SESSIONS},
        {"ttl", 0, 1, O_TTL},
        {"secret-file", 0, 1, O_SECRET},
        {"issuer", 0, 1, O_ISS},
        {"audience", 0, 1, O_AUD},
        {"subject", 0, 1, O_SUB},
        {"station", 0, 1, O_STATION},
        {"help", 0, 0, O_HELP},
        {NULL, 0, 0, 0},
};

#define MAX_SESSIONS 256

struct token_opts {
	const char *role, *sessions, *secret_file;
	const char *iss, *aud, *sub, *station;
	double ttl;
};

/* Returns -1 to go on, else the exit status (after --help or a bad
 * option). */
static int parse_options(int argc, char **argv, struct token_opts *o)
{
	const char *cmd = "token";
	char err[400];
	struct jw_args a;
	int id;
	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next(cmd, &a, opts, NULL, JW_CLI_POSITIONAL)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case JW_ARGS_DASHDASH:
			case JW_ARGS_POSITIONAL:
				jw_errorf(cmd, "unexpected argument \"%.60s\"", a.value ? a.value : "--");
				return JW_EXIT_USAGE;
			case O_ROLE:
				o->role = a.value;
				break;
			case O_SESSIONS:
				o->sessions = a.value;
				break;
			case O_TTL:
				if(jw_parse_duration(a.value, &o->ttl, err, sizeof(err)) || o->ttl < 1) {
					jw_errorf(cmd, "--ttl: %s", o->ttl < 1 ? "must be at least 1s" : err);
					return JW_EXIT_USAGE;
				}
				break;
			case O_SECRET:
				o->secret_file = a.value;
				break;
			case O_ISS:
				o->iss = a.value;
				break;
			case O_AUD:
				o->aud = a.value;
				break;
			case O_SUB:
				o->sub = a.value;
				break;
			case O_STATION:
				o->station = a.value;
				break;
			case O_HELP:
				fputs(help, stdout);
				return 0;
			default:
				break;
		}
	}
	const char *role = o->role;
	if(!role || (strcmp(role, "viewer") && strcmp(role, "observer") && strcmp(role, "worker") &&
	                    strcmp(role, "admin") && strcmp(role, "station") && strcmp(role, "edge"))) {
		jw_errorf(cmd, "--role must be viewer, observer, worker, station, edge or admin");
		return JW_EXIT_USAGE;
	}
	if(!strcmp(role, "station") != (o->station != NULL)) {
		jw_errorf(cmd, "--station ID goes with --role station, and only with it");
		return JW_EXIT_USAGE;
	}
	if(o->station && !jw_topic_id_valid(o->station)) {
		jw_errorf(cmd, "--station: not a station id (1-128 characters of A-Z a-z 0-9 . _ -)");
		return JW_EXIT_USAGE;
	}
	if(!o->sessions) {
		jw_errorf(cmd, "--sessions is required (a list of session ids, or *)");
		return JW_EXIT_USAGE;
	}
	if(!o->secret_file) {
		jw_errorf(cmd, "--secret-file (or JOBWIRE_JWT_SECRET_FILE) is required");
		return JW_EXIT_USAGE;
	}
	return -1;
}

/* The sessions claim: "*" or the array of the listed ids. NULL after
 * printing why the list is bad. */
static struct json_object *sessions_claim(const char *sessions)
{
	static char list[MAX_SESSIONS][JW_ID_MAX + 1];
	char err[400];
	if(!strcmp(sessions, "*")) {
		return json_object_new_string("*");
	}
	int n = jw_split_list(sessions, &list[0][0], MAX_SESSIONS, JW_ID_MAX + 1, err, sizeof(err));
	if(n < 0) {
		jw_errorf("token", "--sessions: %s", err);
		return NULL;
	}
	struct json_object *sess = json_object_new_array();
	for(int i = 0; i < n; i++) {
		if(!jw_topic_id_valid(list[i])) {
			json_object_put(sess);
			jw_errorf("token",
			        "--sessions: \"%s\" is not a session id (1-128 of A-Z a-z 0-9 . _ -)", list[i]);
			return NULL;
		}
		json_object_array_add(sess, json_object_new_string(list[i]));
	}
	return sess;
}

/* Reads the shared secret; one trailing newline (LF or CRLF) is not part
 * of it. 0, or -1 after printing why (*secret may still need freeing). */
static int read_secret(const char *file, char **secret, size_t *slen)
{
	char err[400];
	if(jw_read_all(file, 1u << 16, secret, slen, err, sizeof(err))) {
		jw_errorf("token", "secret: %s", err);
		return -1;
	}
	char *p = *secret;
	if(*slen > 0 && p[*slen - 1] == '\n') {
		(*slen)--;
		if(*slen > 0 && p[*slen - 1] == '\r') {
			(*slen)--;
		}
	}
	if(*slen < 16) {
		jw_errorf("token",
		        "secret in %s is %zu bytes: use at least 16 (32 random bytes recommended)", file,
		        *slen);
		return -1;
	}
	return 0;
}

/* Signs the token (HS256) and prints it. Returns the exit status. */
static int mint(
        const struct token_opts *o, struct json_object *claims, const char *secret, size_t slen)
{
	const char *cmd = "token";
	jwt_t *jwt = NULL;
	char *tok = NULL;
	int rc = JW_EXIT_SOFTWARE;
	/* ttl is at most 10 years (jw_parse_duration), but the sum is checked
	 * rather than trusted: a signed overflow would be undefined. */
	int64_t now = (int64_t)time(NULL), exp;
	if(__builtin_add_overflow(now, (int64_t)o->ttl, &exp) || exp > LONG_MAX) {
		jw_errorf(cmd, "--ttl: the expiry time does not fit");
		return rc;
	}
	if(jwt_new(&jwt) || jwt_add_grant(jwt, "role", o->role) ||
	        jwt_add_grant_int(jwt, "iat", (long)now) || jwt_add_grant_int(jwt, "exp", (long)exp) ||
	        jwt_add_grants_json(
	                jwt, json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN)) ||
	        (o->iss && jwt_add_grant(jwt, "iss", o->iss)) ||
	        (o->aud && jwt_add_grant(jwt, "aud", o->aud)) ||
	        (o->sub && jwt_add_grant(jwt, "sub", o->sub)) ||
	        (o->station && jwt_add_grant(jwt, "station", o->station)) ||
	        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)slen)) {
		jw_errorf(cmd, "cannot build the token");
		goto out;
	}
	tok = jwt_encode_str(jwt);
	if(!tok) {
		jw_errorf(cmd, "cannot encode the token");
		goto out;
	}
	printf("%s\n", tok);
	rc = JW_EXIT_OK;
out:
	free(tok);
	jwt_free(jwt);
	return rc;
}

int jw_cmd_token(int argc, char **argv)
{
	struct token_opts o = {
	        NULL, NULL, getenv("JOBWIRE_JWT_SECRET_FILE"), NULL, NULL, NULL, NULL, 3600};
	int rc = parse_options(argc, argv, &o);
	char *secret = NULL;
	size_t slen = 0;
	struct json_object *claims = NULL, *sess;
	if(rc >= 0) {
		return rc;
	}
	rc = JW_EXIT_USAGE;
	if(!(sess = sessions_claim(o.sessions))) {
		goto out;
	}
	claims = json_object_new_object();
	json_object_object_add(claims, "sessions", sess);
	if(read_secret(o.secret_file, &secret, &slen)) {
		goto out;
	}
	rc = mint(&o, claims, secret, slen);
out:
	json_object_put(claims);
	if(secret) {
		memset(secret, 0, slen);
	}
	free(secret);
	return rc;
}
