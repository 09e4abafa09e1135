/*
 * jobwire publish: builds one event, checks it with the broker's own
 * schemas, publishes it with MQTT 5 QoS 1 and a response topic, and
 * reports the broker's verdict (PUBACK reason and rejection notice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "event.h"
#include "json.h"
#include "schemaset.h"
#include "topic.h"

static const char help[] =
	"usage: jobwire publish TYPE --session S --job J [field=value ... | --json DOC | -]\n"
	"\n"
	"Publishes one event on {prefix}/S/J/TYPE with MQTT 5 QoS 1 and reports the\n"
	"broker's verdict. The payload comes from field=value pairs (numbers, true,\n"
	"false and null are typed; field:=JSON for any JSON; a.b=1 nests), from --json,\n"
	"or from stdin (-). It is checked against the schemas first.\n"
	"\n"
	"  -s, --session S        session id [JOBWIRE_SESSION]\n"
	"  -j, --job J            job id [JOBWIRE_JOB]\n"
	"      --json DOC         the payload as a JSON object\n"
	"      --no-local-check   skip the local schema check (the broker still checks)\n"
	"      --response-topic T where the broker's rejection notice goes\n"
	"                         [$jobwire/rejections/CLIENT-ID, which every\n"
	"                         client may read, also in the broker's JWT mode]\n"
	"      --verdict-timeout T  how long to wait for PUBACK and notice [5s]\n"
	"  -q, --quiet            print nothing on success\n"
	"\n"
	"Exit status: 0 accepted, 1 rejected (locally or by the broker), 3 cannot\n"
	"connect or no verdict, 64 bad arguments.\n\n";

enum { O_SESSION = 1, O_JOB, O_JSON, O_NOCHECK, O_RT, O_VT, O_QUIET };

static const struct jw_opt opts[] = {
	{"session", 's', 1, O_SESSION}, {"job", 'j', 1, O_JOB}, {"json", 0, 1, O_JSON},
	{"no-local-check", 0, 0, O_NOCHECK}, {"response-topic", 0, 1, O_RT},
	{"verdict-timeout", 0, 1, O_VT}, {"quiet", 'q', 0, O_QUIET},
	JW_COMMON_OPTS, {NULL, 0, 0, 0},
};

static void print_notice(const char *payload, size_t len)
{
	struct json_object *o = NULL;
	struct jw_json_error je;
	if(jw_json_parse(payload, len, 32, &o, &je) || !o || !json_object_is_type(o, json_type_object)){
		fprintf(stderr, "rejected by the broker: %.*s\n", (int)(len > 500 ? 500 : len), payload);
		json_object_put(o);
		return;
	}
	struct json_object *v;
	const char *reason = json_object_object_get_ex(o, "reason", &v) ? json_object_get_string(v) : "?";
	const char *msg = json_object_object_get_ex(o, "message", &v) ? json_object_get_string(v) : "";
	fprintf(stderr, "rejected by the broker: %s: %s", reason, msg);
	const char *field = json_object_object_get_ex(o, "field", &v) ? json_object_get_string(v) : NULL;
	const char *kw = json_object_object_get_ex(o, "keyword", &v) ? json_object_get_string(v) : NULL;
	if(field || kw){
		fprintf(stderr, " (");
		if(field){
			fprintf(stderr, "field %s", field);
		}
		if(kw){
			fprintf(stderr, "%skeyword %s", field ? ", " : "", kw);
		}
		fprintf(stderr, ")");
	}
	fputc('\n', stderr);
	json_object_put(o);
}

int jw_cmd_publish(int argc, char **argv)
{
	const char *cmd = "publish";
	struct jw_conn conn;
	char err[600];
	const char *type = NULL, *session = getenv("JOBWIRE_SESSION"), *job = getenv("JOBWIRE_JOB");
	const char *json_doc = NULL, *response_topic = NULL;
	int local_check = 1, quiet = 0, from_stdin = 0;
	double verdict_timeout = 5;
	int rc = JW_EXIT_USAGE;
	struct json_object *fields = json_object_new_object();
	struct jw_schemaset *set = NULL;
	struct jw_client *cl = NULL;
	char *payload = NULL;
	size_t plen = 0;

	if(jw_conn_init(&conn, err, sizeof(err))){
		jw_errorf(cmd, "%s", err);
		goto out;
	}
	struct jw_args a;
	jw_args_init(&a, argc, argv);
	int id, nfields = 0;
	while((id = jw_args_next(&a, opts)) != JW_ARGS_END){
		switch(id){
		case JW_ARGS_ERROR: jw_errorf(cmd, "%s (see --help)", a.err); goto out;
		case JW_ARGS_DASHDASH: break;
		case JW_ARGS_POSITIONAL:
			if(!type){
				type = a.value;
			}else if(!strcmp(a.value, "-")){
				from_stdin = 1;
			}else{
				if(jw_fields_add(fields, a.value, err, sizeof(err))){
					jw_errorf(cmd, "%s", err);
					goto out;
				}
				nfields++;
			}
			break;
		case O_SESSION: session = a.value; break;
		case O_JOB: job = a.value; break;
		case O_JSON: json_doc = a.value; break;
		case O_NOCHECK: local_check = 0; break;
		case O_RT: response_topic = a.value; break;
		case O_VT:
			if(jw_parse_duration(a.value, &verdict_timeout, err, sizeof(err))){
				jw_errorf(cmd, "--verdict-timeout: %s", err);
				goto out;
			}
			break;
		case O_QUIET: quiet = 1; break;
		default:
			if(jw_conn_option(&conn, id, a.value, err, sizeof(err)) < 0){
				jw_errorf(cmd, "%s", err);
				goto out;
			}
		}
	}
	if(conn.help){
		fputs(help, stdout);
		fputs(jw_common_help, stdout);
		rc = 0;
		goto out;
	}
	if(!type || !session || !job){
		jw_errorf(cmd, "need TYPE, --session and --job (see --help)");
		goto out;
	}
	if((json_doc != NULL) + from_stdin + (nfields > 0) > 1){
		jw_errorf(cmd, "give the payload one way: field=value pairs, --json or - (stdin)");
		goto out;
	}
	char topic[512];
	struct jw_topic t;
	if(jw_topic_format(topic, sizeof(topic), conn.prefix, session, job, type) < 0){
		jw_errorf(cmd, "topic too long");
		goto out;
	}
	if(jw_topic_parse(conn.prefix, topic, &t) != JW_TOPIC_JOB){
		jw_errorf(cmd, "%s is not a job topic: %s", topic, t.why);
		goto out;
	}
	if(json_doc){
		payload = strdup(json_doc);
		plen = strlen(json_doc);
	}else if(from_stdin){
		if(jw_read_all("-", 16u << 20, &payload, &plen, err, sizeof(err))){
			jw_errorf(cmd, "%s", err);
			goto out;
		}
	}else{
		const char *s = json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		payload = strdup(s);
		plen = strlen(s);
	}
	if(!payload){
		jw_errorf(cmd, "out of memory");
		rc = JW_EXIT_SOFTWARE;
		goto out;
	}

	if(local_check){
		if(jw_cli_load_schemas(conn.schemas, &set, err, sizeof(err))){
			jw_errorf(cmd, "%s", err);
			rc = JW_EXIT_USAGE;
			goto out;
		}
		struct jw_verdict v;
		struct jw_event_limits lim = {JW_DEFAULT_MAX_PAYLOAD, JW_DEFAULT_MAX_DEPTH};
		if(jw_event_check(set, &t, payload, plen, &lim, &v)){
			fprintf(stderr, "rejected locally: %s: %s", jw_reason_name(v.reason), v.message);
			if(v.field[0] || v.keyword[0]){
				fprintf(stderr, " (%s%s%s%s%s)", v.field[0] ? "field " : "", v.field,
				        v.field[0] && v.keyword[0] ? ", " : "", v.keyword[0] ? "keyword " : "", v.keyword);
			}
			fprintf(stderr, "\n(not published; --no-local-check sends it anyway)\n");
			rc = JW_EXIT_FAILED;
			goto out;
		}
	}

	if(jw_client_open(&conn, NULL, &cl, err, sizeof(err))){
		jw_errorf(cmd, "%s", err);
		rc = JW_EXIT_CONNECT;
		goto out;
	}
	/* The client's own replies topic, the one $jobwire/ topic the broker
	 * answers on; a response topic the broker refuses sends the notice to
	 * the rejection topic instead, so both are watched. */
	char rt[300], own_rej[300];
	snprintf(rt, sizeof(rt), "%s", response_topic ? response_topic : "");
	if(!response_topic){
		int n = jw_topic_client_level(rt, sizeof(rt), JW_REPLIES_PREFIX, jw_client_id(cl));

		if(n < 0 || snprintf(rt + n, sizeof(rt) - (size_t)n, "/publish") >= (int)(sizeof(rt) - (size_t)n)){
			jw_errorf(cmd, "client id too long for a replies topic");
			rc = JW_EXIT_CONNECT;
			goto out;
		}
	}
	jw_topic_rejection(own_rej, sizeof(own_rej), jw_client_id(cl));
	if(jw_client_subscribe(cl, rt, err, sizeof(err))
			|| (strcmp(rt, own_rej) != 0 && jw_client_subscribe(cl, own_rej, err, sizeof(err)))){
		jw_errorf(cmd, "%s", err);
		rc = JW_EXIT_CONNECT;
		goto out;
	}
	char corr[64];
	snprintf(corr, sizeof(corr), "jobwire-%ld-%ld", (long)getpid(), (long)time(NULL));
	int mid, reason;
	if(jw_client_publish(cl, topic, payload, plen, 1, 0, rt, corr, strlen(corr), &mid, err, sizeof(err))){
		jw_errorf(cmd, "%s", err);
		rc = JW_EXIT_CONNECT;
		goto out;
	}
	if(jw_client_wait_ack(cl, mid, verdict_timeout, &reason)){
		jw_errorf(cmd, "no PUBACK from the broker within %gs", verdict_timeout);
		rc = JW_EXIT_CONNECT;
		goto out;
	}
	if(reason < 0x80){
		if(!quiet){
			printf("accepted: %s\n", topic);
		}
		rc = JW_EXIT_OK;
		goto out;
	}
	/* Refused: the notice names the rule and the field. */
	double deadline = jw_now() + verdict_timeout;
	struct jw_msg *m;
	rc = JW_EXIT_FAILED;
	while(jw_now() < deadline && jw_client_next(cl, deadline - jw_now(), &m)){
		int mine = (!strcmp(m->topic, rt) || !strcmp(m->topic, own_rej)) && m->corr && !strcmp(m->corr, corr);
		if(mine){
			print_notice(m->payload, m->len);
		}
		jw_msg_free(m);
		if(mine){
			goto out;
		}
	}
	fprintf(stderr, "rejected by the broker: PUBACK reason 0x%02x (%s); no rejection notice arrived\n",
	        reason, reason == 0x87 ? "not authorized" : "error");
out:
	jw_client_close(cl);
	jw_schemaset_free(set);
	json_object_put(fields);
	free(payload);
	return rc;
}
