/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
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
        {"session", 's', 1, O_SESSION},
        {"job", 'j', 1, O_JOB},
        {"json", 0, 1, O_JSON},
        {"no-local-check", 0, 0, O_NOCHECK},
        {"response-topic", 0, 1, O_RT},
        {"verdict-timeout", 0, 1, O_VT},
        {"quiet", 'q', 0, O_QUIET},
        JW_COMMON_OPTS,
        {NULL, 0, 0, 0},
};

static void print_notice(const char *payload, size_t len)
{
	struct json_object *o = NULL;
	struct jw_json_error je;
	if(jw_json_parse(payload, len, 32, &o, &je) || !o ||
	        !json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "rejected by the broker: %.*s\n", (int)(len > 500 ? 500 : len), payload);
		json_object_put(o);
		return;
	}
	struct json_object *v;
	const char *reason =
	        json_object_object_get_ex(o, "reason", &v) ? json_object_get_string(v) : "?";
	const char *msg = json_object_object_get_ex(o, "message", &v) ? json_object_get_string(v) : "";
	fprintf(stderr, "rejected by the broker: %s: %s", reason, msg);
	const char *field =
	        json_object_object_get_ex(o, "field", &v) ? json_object_get_string(v) : NULL;
	const char *kw = json_object_object_get_ex(o, "keyword", &v) ? json_object_get_string(v) : NULL;
	if(field || kw) {
		fprintf(stderr, " (");
		if(field) {
			fprintf(stderr, "field %s", field);
		}
		if(kw) {
			fprintf(stderr, "%skeyword %s", field ? ", " : "", kw);
		}
		fprintf(stderr, ")");
	}
	fputc('\n', stderr);
	json_object_put(o);
}

/* What the options ask for. */
struct pub_opts {
	const char *type, *session, *job;
	const char *json_doc, *response_topic;
	int local_check, quiet, from_stdin, nfields;
	double verdict_timeout;
	struct json_object *fields; /* the field=value pairs */
};

/* Returns -1 to go on, else the exit status (after a bad option). */
static int parse_options(int argc, char **argv, struct jw_conn *conn, struct pub_opts *o)
{
	const char *cmd = "publish";
	char err[600];
	struct jw_args a;
	int id;
	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next(cmd, &a, opts, conn, JW_CLI_POSITIONAL)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case JW_ARGS_DASHDASH:
				break;
			case JW_ARGS_POSITIONAL:
				if(!o->type) {
					o->type = a.value;
				} else if(!strcmp(a.value, "-")) {
					o->from_stdin = 1;
				} else {
					if(jw_fields_add(o->fields, a.value, err, sizeof(err))) {
						jw_errorf(cmd, "%s", err);
						return JW_EXIT_USAGE;
					}
					o->nfields++;
				}
				break;
			case O_SESSION:
				o->session = a.value;
				break;
			case O_JOB:
				o->job = a.value;
				break;
			case O_JSON:
				o->json_doc = a.value;
				break;
			case O_NOCHECK:
				o->local_check = 0;
				break;
			case O_RT:
				o->response_topic = a.value;
				break;
			case O_VT:
				if(jw_parse_duration(a.value, &o->verdict_timeout, err, sizeof(err))) {
					jw_errorf(cmd, "--verdict-timeout: %s", err);
					return JW_EXIT_USAGE;
				}
				break;
			case O_QUIET:
				o->quiet = 1;
				break;
			default:
				break;
		}
	}
	return -1;
}

/* The event's topic, checked as a job topic. 0 or JW_EXIT_USAGE. */
static int event_topic(const struct jw_conn *conn, const struct pub_opts *o, char *topic,
        size_t cap, struct jw_topic *t)
{
	if(jw_topic_format(topic, cap, conn->prefix, o->session, o->job, o->type) < 0) {
		jw_errorf("publish", "topic too long");
		return JW_EXIT_USAGE;
	}
	if(jw_topic_parse(conn->prefix, topic, t) != JW_TOPIC_JOB) {
		jw_errorf("publish", "%s is not a job topic: %s", topic, t->why);
		return JW_EXIT_USAGE;
	}
	return 0;
}

/* The payload from --json, stdin or the fields, malloc'd. 0 or an exit
 * status. */
static int read_payload(const struct pub_opts *o, char **payload, size_t *plen)
{
	char err[600];
	if(o->json_doc) {
		*payload = strdup(o->json_doc);
		*plen = strlen(o->json_doc);
	} else if(o->from_stdin) {
		if(jw_read_all("-", 16u << 20, payload, plen, err, sizeof(err))) {
			jw_errorf("publish", "%s", err);
			return JW_EXIT_USAGE;
		}
	} else {
		const char *s = json_object_to_json_string_ext(
		        o->fields, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		*payload = strdup(s);
		*plen = strlen(s);
	}
	if(!*payload) {
		jw_errorf("publish", "out of memory");
		return JW_EXIT_SOFTWARE;
	}
	return 0;
}

/* Checks the event with the broker's schemas. 0, JW_EXIT_FAILED when it
 * would be refused, JW_EXIT_USAGE when the schemas do not load. */
static int check_locally(
        const struct jw_conn *conn, const struct jw_topic *t, const char *payload, size_t plen)
{
	char err[600];
	struct jw_schemaset *set = NULL;
	if(jw_cli_load_schemas(conn->schemas, &set, err, sizeof(err))) {
		jw_errorf("publish", "%s", err);
		return JW_EXIT_USAGE;
	}
	struct jw_verdict v;
	struct jw_event_limits lim = {JW_DEFAULT_MAX_PAYLOAD, JW_DEFAULT_MAX_DEPTH};
	int rc = 0;
	if(jw_event_check(set, t, payload, plen, &lim, &v)) {
		fprintf(stderr, "rejected locally: %s: %s", jw_reason_name(v.reason), v.message);
		jw_cli_print_where(stderr, &v);
		fprintf(stderr, "\n(not published; --no-local-check sends it anyway)\n");
		rc = JW_EXIT_FAILED;
	}
	jw_schemaset_free(set);
	return rc;
}

/* Subscribes to the topics the broker's notice may come on: the response
 * topic (by default the client's own replies topic, the one $jobwire/
 * topic the broker answers on) and, since a response topic the broker
 * refuses sends the notice to the rejection topic instead, that too.
 * 0 or JW_EXIT_CONNECT. */
static int watch_verdict(struct jw_client *cl, const char *response_topic, char *rt, size_t rtcap,
        char *own_rej, size_t rejcap)
{
	char err[600];
	snprintf(rt, rtcap, "%s", response_topic ? response_topic : "");
	if(!response_topic) {
		int n = jw_topic_client_level(rt, rtcap, JW_REPLIES_PREFIX, jw_client_id(cl));

		if(n < 0 || snprintf(rt + n, rtcap - (size_t)n, "/publish") >= (int)(rtcap - (size_t)n)) {
			jw_errorf("publish", "client id too long for a replies topic");
			return JW_EXIT_CONNECT;
		}
	}
	jw_topic_rejection(own_rej, rejcap, jw_client_id(cl));
	if(jw_client_subscribe(cl, rt, err, sizeof(err)) ||
	        (strcmp(rt, own_rej) != 0 && jw_client_subscribe(cl, own_rej, err, sizeof(err)))) {
		jw_errorf("publish", "%s", err);
		return JW_EXIT_CONNECT;
	}
	return 0;
}

/* After a refusing PUBACK: prints the notice that names the rule and the
 * field, if it comes in time. Returns JW_EXIT_FAILED. */
static int report_refusal(struct jw_client *cl, const char *rt, const char *own_rej,
        const char *corr, int reason, double timeout)
{
	double deadline = jw_now() + timeout;
	struct jw_msg *m;
	while(jw_now() < deadline && jw_client_next(cl, deadline - jw_now(), &m)) {
		int mine = (!strcmp(m->topic, rt) || !strcmp(m->topic, own_rej)) && m->corr &&
		           !strcmp(m->corr, corr);
		if(mine) {
			print_notice(m->payload, m->len);
		}
		jw_msg_free(m);
		if(mine) {
			return JW_EXIT_FAILED;
		}
	}
	fprintf(stderr,
	        "rejected by the broker: PUBACK reason 0x%02x (%s); no rejection notice arrived\n",
	        reason, reason == 0x87 ? "not authorized" : "error");
	return JW_EXIT_FAILED;
}

/* Connects, publishes and reports the broker's verdict. Returns the exit
 * status. */
static int publish_event(const struct jw_conn *conn, const struct pub_opts *o, const char *topic,
        const char *payload, size_t plen)
{
	const char *cmd = "publish";
	char err[600], rt[300], own_rej[300], corr[64];
	struct jw_client *cl = NULL;
	int mid, reason, rc;
	if(jw_client_open(conn, NULL, &cl, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_CONNECT;
	}
	if((rc = watch_verdict(cl, o->response_topic, rt, sizeof(rt), own_rej, sizeof(own_rej)))) {
		goto out;
	}
	snprintf(corr, sizeof(corr), "jobwire-%ld-%ld", (long)getpid(), (long)time(NULL));
	rc = JW_EXIT_CONNECT;
	if(jw_client_publish(
	           cl, topic, payload, plen, 1, 0, rt, corr, strlen(corr), &mid, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		goto out;
	}
	if(jw_client_wait_ack(cl, mid, o->verdict_timeout, &reason)) {
		jw_errorf(cmd, "no PUBACK from the broker within %gs", o->verdict_timeout);
		goto out;
	}
	if(reason < 0x80) {
		if(!o->quiet) {
			printf("accepted: %s\n", topic);
		}
		rc = JW_EXIT_OK;
		goto out;
	}
	rc = report_refusal(cl, rt, own_rej, corr, reason, o->verdict_timeout);
out:
	jw_client_close(cl);
	return rc;
}

int jw_cmd_publish(int argc, char **argv)
{
	const char *cmd = "publish";
	struct jw_conn conn;
	char err[600], topic[512];
	struct jw_topic t;
	struct pub_opts o = {NULL, getenv("JOBWIRE_SESSION"), getenv("JOBWIRE_JOB"), NULL, NULL, 1, 0,
	        0, 0, 5, json_object_new_object()};
	int rc = JW_EXIT_USAGE;
	char *payload = NULL;
	size_t plen = 0;

	if(jw_conn_init(&conn, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		goto out;
	}
	if((rc = parse_options(argc, argv, &conn, &o)) >= 0) {
		goto out;
	}
	rc = JW_EXIT_USAGE;
	if(conn.help) {
		fputs(help, stdout);
		fputs(jw_common_help, stdout);
		rc = 0;
		goto out;
	}
	if(!o.type || !o.session || !o.job) {
		jw_errorf(cmd, "need TYPE, --session and --job (see --help)");
		goto out;
	}
	if((o.json_doc != NULL) + o.from_stdin + (o.nfields > 0) > 1) {
		jw_errorf(cmd, "give the payload one way: field=value pairs, --json or - (stdin)");
		goto out;
	}
	if((rc = event_topic(&conn, &o, topic, sizeof(topic), &t)) ||
	        (rc = read_payload(&o, &payload, &plen)) ||
	        (o.local_check && (rc = check_locally(&conn, &t, payload, plen)))) {
		goto out;
	}
	rc = publish_event(&conn, &o, topic, payload, plen);
out:
	json_object_put(o.fields);
	free(payload);
	return rc;
}
