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
	"      --role ROLE        viewer, worker or admin\n"
	"      --sessions LIST    comma-separated session ids, or * for all\n"
	"      --ttl T            lifetime, e.g. 90s, 30m, 1h, 7d [1h]\n"
	"      --secret-file F    the shared HS256 secret [JOBWIRE_JWT_SECRET_FILE];\n"
	"                         one trailing newline is not part of the secret\n"
	"      --issuer ISS       iss claim; --audience AUD aud claim; --subject SUB sub claim\n"
	"\n"
	"Exit status: 0 printed, 64 bad arguments or unreadable secret.\n";

enum { O_ROLE = 1, O_SESSIONS, O_TTL, O_SECRET, O_ISS, O_AUD, O_SUB, O_HELP };

static const struct jw_opt opts[] = {
	{"role", 0, 1, O_ROLE}, {"sessions", 0, 1, O_SESSIONS}, {"ttl", 0, 1, O_TTL},
	{"secret-file", 0, 1, O_SECRET}, {"issuer", 0, 1, O_ISS}, {"audience", 0, 1, O_AUD},
	{"subject", 0, 1, O_SUB}, {"help", 0, 0, O_HELP}, {NULL, 0, 0, 0},
};

#define MAX_SESSIONS 256

int jw_cmd_token(int argc, char **argv)
{
	const char *cmd = "token";
	const char *role = NULL, *sessions = NULL, *secret_file = getenv("JOBWIRE_JWT_SECRET_FILE");
	const char *iss = NULL, *aud = NULL, *sub = NULL;
	double ttl = 3600;
	char err[400];
	int rc = JW_EXIT_USAGE;
	char *secret = NULL;
	size_t slen = 0;
	jwt_t *jwt = NULL;
	char *tok = NULL;
	struct json_object *claims = NULL;
	static char list[MAX_SESSIONS][JW_ID_MAX + 1];
	struct jw_args a;
	jw_args_init(&a, argc, argv);
	int id;
	while((id = jw_args_next(&a, opts)) != JW_ARGS_END){
		switch(id){
		case JW_ARGS_ERROR: jw_errorf(cmd, "%s (see --help)", a.err); goto out;
		case JW_ARGS_DASHDASH:
		case JW_ARGS_POSITIONAL: jw_errorf(cmd, "unexpected argument \"%.60s\"", a.value ? a.value : "--"); goto out;
		case O_ROLE: role = a.value; break;
		case O_SESSIONS: sessions = a.value; break;
		case O_TTL:
			if(jw_parse_duration(a.value, &ttl, err, sizeof(err)) || ttl < 1){
				jw_errorf(cmd, "--ttl: %s", ttl < 1 ? "must be at least 1s" : err);
				goto out;
			}
			break;
		case O_SECRET: secret_file = a.value; break;
		case O_ISS: iss = a.value; break;
		case O_AUD: aud = a.value; break;
		case O_SUB: sub = a.value; break;
		case O_HELP: fputs(help, stdout); rc = 0; goto out;
		default: break;
		}
	}
	if(!role || (strcmp(role, "viewer") && strcmp(role, "worker") && strcmp(role, "admin"))){
		jw_errorf(cmd, "--role must be viewer, worker or admin");
		goto out;
	}
	if(!sessions){
		jw_errorf(cmd, "--sessions is required (a list of session ids, or *)");
		goto out;
	}
	if(!secret_file){
		jw_errorf(cmd, "--secret-file (or JOBWIRE_JWT_SECRET_FILE) is required");
		goto out;
	}
	struct json_object *sess;
	if(!strcmp(sessions, "*")){
		sess = json_object_new_string("*");
	}else{
		int n = jw_split_list(sessions, &list[0][0], MAX_SESSIONS, JW_ID_MAX + 1, err, sizeof(err));
		if(n < 0){
			jw_errorf(cmd, "--sessions: %s", err);
			goto out;
		}
		sess = json_object_new_array();
		for(int i = 0; i < n; i++){
			if(!jw_topic_id_valid(list[i])){
				json_object_put(sess);
				jw_errorf(cmd, "--sessions: \"%s\" is not a session id (1-128 of A-Z a-z 0-9 . _ -)", list[i]);
				goto out;
			}
			json_object_array_add(sess, json_object_new_string(list[i]));
		}
	}
	claims = json_object_new_object();
	json_object_object_add(claims, "sessions", sess);
	if(jw_read_all(secret_file, 1u << 16, &secret, &slen, err, sizeof(err))){
		jw_errorf(cmd, "secret: %s", err);
		goto out;
	}
	if(slen > 0 && secret[slen - 1] == '\n'){
		slen--;
		if(slen > 0 && secret[slen - 1] == '\r'){
			slen--;
		}
	}
	if(slen < 16){
		jw_errorf(cmd, "secret in %s is %zu bytes: use at least 16 (32 random bytes recommended)", secret_file, slen);
		goto out;
	}
	/* ttl is at most 10 years (jw_parse_duration), but the sum is checked
	 * rather than trusted: a signed overflow would be undefined. */
	int64_t now = (int64_t)time(NULL), exp;
	rc = JW_EXIT_SOFTWARE;
	if(__builtin_add_overflow(now, (int64_t)ttl, &exp) || exp > LONG_MAX){
		jw_errorf(cmd, "--ttl: the expiry time does not fit");
		goto out;
	}
	if(jwt_new(&jwt) || jwt_add_grant(jwt, "role", role)
	   || jwt_add_grant_int(jwt, "iat", (long)now) || jwt_add_grant_int(jwt, "exp", (long)exp)
	   || jwt_add_grants_json(jwt, json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN))
	   || (iss && jwt_add_grant(jwt, "iss", iss)) || (aud && jwt_add_grant(jwt, "aud", aud))
	   || (sub && jwt_add_grant(jwt, "sub", sub))
	   || jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)slen)){
		jw_errorf(cmd, "cannot build the token");
		goto out;
	}
	tok = jwt_encode_str(jwt);
	if(!tok){
		jw_errorf(cmd, "cannot encode the token");
		goto out;
	}
	printf("%s\n", tok);
	rc = JW_EXIT_OK;
out:
	free(tok);
	jwt_free(jwt);
	json_object_put(claims);
	if(secret){
		memset(secret, 0, slen);
	}
	free(secret);
	return rc;
}
