/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire review: asks a person about the job's result and waits for the
 * answer. Subscribes to the job's control topic, publishes
 * validation-required (MQTT 5 QoS 1), and prints the choice of the first
 * control {"action":"review"} that comes back. Inside `jobwire run` the job
 * and the broker come from the environment the wrapper sets
 * (jw_review_export_env). docs/cli.md, "jobwire review".
 */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "json.h"

static const char help[] =
        "usage: jobwire review --reason R --confidence C [--actions A,B,...] [--threshold T]\n"
        "                      [--item JSON] [--timeout T] [--json] [--session S --job J]\n"
        "\n"
        "Asks a person to look at the job's result: publishes validation-required on\n"
        "{prefix}/S/J (the job waits), then waits on its control topic for the answer\n"
        "(a control {\"action\":\"review\",\"choice\":C}, from a dashboard or\n"
        "mosquitto_pub) and prints the choice. Inside `jobwire run` the session, job\n"
        "and broker come from the environment the wrapper sets.\n"
        "\n"
        "  -s, --session S     [JOBWIRE_SESSION]\n"
        "  -j, --job J         [JOBWIRE_JOB]\n"
        "      --reason R      why a person should look (required)\n"
        "      --confidence C  the result's confidence, 0 to 1 (required)\n"
        "      --threshold T   the confidence it needed, 0 to 1\n"
        "      --actions LIST  the choices to offer, comma-separated (approve,reject);\n"
        "                      none: any answer is taken\n"
        "      --item JSON     what to look at, a JSON object\n"
        "      --timeout T     give up after T (30s, 10m, 2h) [wait forever]\n"
        "      --json          print the whole answer (choice, comment, ts) as JSON\n"
        "\n"
        "Exit status: 0 answered (the choice on stdout), 1 refused by the broker or\n"
        "the job was cancelled meanwhile, 2 no answer within --timeout, 3 cannot\n"
        "connect, 64 bad arguments.\n\n";

enum { O_SESSION = 1, O_JOB, O_REASON, O_CONF, O_THR, O_ACTIONS, O_ITEM, O_TIMEOUT, O_JSON };

static const struct jw_opt opts[] = {
        {"session", 's', 1, O_SESSION},
        {"job", 'j', 1, O_JOB},
        {"reason", 0, 1, O_REASON},
        {"confidence", 0, 1, O_CONF},
        {"threshold", 0, 1, O_THR},
        {"actions", 0, 1, O_ACTIONS},
        {"item", 0, 1, O_ITEM},
        {"timeout", 0, 1, O_TIMEOUT},
        {"json", 0, 0, O_JSON},
        JW_COMMON_OPTS,
        {NULL, 0, 0, 0},
};

struct review_opts {
	const char *session, *job, *reason, *actions, *item;
	double confidence, threshold, timeout; /* timeout < 0: forever */
	int has_confidence, has_threshold, json;
};

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct jw_conn *conn, struct review_opts *o)
{
	const char *cmd = "review";
	char err[300];
	struct jw_args a;
	int id;

	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next(cmd, &a, opts, conn, 0)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case O_SESSION:
				o->session = a.value;
				break;
			case O_JOB:
				o->job = a.value;
				break;
			case O_REASON:
				o->reason = a.value;
				break;
			case O_CONF:
				if(jw_parse_double(
				           a.value, 0, 1, &o->confidence, "--confidence", err, sizeof(err))) {
					jw_errorf(cmd, "%s", err);
					return JW_EXIT_USAGE;
				}
				o->has_confidence = 1;
				break;
			case O_THR:
				if(jw_parse_double(a.value, 0, 1, &o->threshold, "--threshold", err, sizeof(err))) {
					jw_errorf(cmd, "%s", err);
					return JW_EXIT_USAGE;
				}
				o->has_threshold = 1;
				break;
			case O_ACTIONS:
				o->actions = a.value;
				break;
			case O_ITEM:
				o->item = a.value;
				break;
			case O_TIMEOUT:
				if(jw_parse_duration(a.value, &o->timeout, err, sizeof(err))) {
					jw_errorf(cmd, "--timeout: %s", err);
					return JW_EXIT_USAGE;
				}
				break;
			case O_JSON:
				o->json = 1;
				break;
			default:
				break;
		}
	}
	if(conn->help) {
		fputs(help, stdout);
		fputs(jw_common_help, stdout);
		return 0;
	}
	if(!o->session || !o->job) {
		jw_errorf(cmd, "--session and --job are required (or JOBWIRE_SESSION and JOBWIRE_JOB, "
		               "which `jobwire run` sets for its command)");
		return JW_EXIT_USAGE;
	}
	if(!o->reason || !o->reason[0] || !o->has_confidence) {
		jw_errorf(cmd, "--reason and --confidence are required");
		return JW_EXIT_USAGE;
	}
	return jw_cli_check_ids(cmd, o->session, o->job) ? JW_EXIT_USAGE : -1;
}

/* The validation-required event, or NULL after an error message. */
static struct json_object *question(const struct review_opts *o)
{
	struct json_object *ev = json_object_new_object();
	struct jw_json_error je;

	json_object_object_add(ev, "reason", json_object_new_string(o->reason));
	json_object_object_add(ev, "confidence", jw_json_number(o->confidence));
	if(o->has_threshold) {
		json_object_object_add(ev, "threshold", jw_json_number(o->threshold));
	}
	if(o->item) {
		struct json_object *item = NULL;

		if(jw_json_parse(o->item, strlen(o->item), 64, &item, &je) || !item ||
		        !json_object_is_type(item, json_type_object)) {
			jw_errorf("review", "--item must be a JSON object");
			json_object_put(item);
			json_object_put(ev);
			return NULL;
		}
		json_object_object_add(ev, "item", item);
	}
	if(o->actions) {
		struct json_object *list = json_object_new_array();
		const char *s = o->actions;

		while(*s) {
			const char *comma = strchr(s, ',');
			size_t n = comma ? (size_t)(comma - s) : strlen(s);

			if(n > 0) {
				json_object_array_add(list, json_object_new_string_len(s, (int)n));
			}
			s += n + (comma ? 1 : 0);
		}
		json_object_object_add(ev, "actions", list);
	}
	return ev;
}

/* What an answer said: 0 a review (printed), 1 a cancel, -1 neither. */
static int answer(const struct jw_msg *m, int json)
{
	struct json_object *o = NULL, *v;
	struct jw_json_error je;
	int rc = -1;

	if(jw_json_parse(m->payload, m->len, 32, &o, &je) || !o ||
	        !json_object_is_type(o, json_type_object) ||
	        !json_object_object_get_ex(o, "action", &v)) {
		json_object_put(o);
		return -1;
	}
	if(!strcmp(json_object_get_string(v), "cancel")) {
		rc = 1;
	} else if(!strcmp(json_object_get_string(v), "review") &&
	          json_object_object_get_ex(o, "choice", &v) &&
	          json_object_is_type(v, json_type_string)) {
		if(json) {
			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		} else {
			printf("%s\n", json_object_get_string(v));
		}
		fflush(stdout);
		rc = 0;
	}
	json_object_put(o);
	return rc;
}

/* Waits for the answer on ctl (or a notice on rej). The exit status. */
static int wait_answer(
        struct jw_client *cl, const char *ctl, const char *rej, const struct review_opts *o)
{
	double until = o->timeout >= 0 ? jw_now() + o->timeout : -1;

	for(;;) {
		double left = until < 0 ? 1 : until - jw_now();
		struct jw_msg *m;
		int got;

		if(until >= 0 && left <= 0) {
			jw_errorf("review", "no answer for %s/%s within %gs", o->session, o->job, o->timeout);
			return JW_EXIT_TIMEOUT;
		}
		if(!jw_client_next(cl, left > 1 ? 1 : left, &m)) {
			continue;
		}
		got = -1;
		if(!strcmp(m->topic, ctl)) {
			got = answer(m, o->json);
		} else if(!strcmp(m->topic, rej)) {
			jw_errorf("review", "the broker refused: %s", m->payload);
			got = 2;
		}
		jw_msg_free(m);
		if(got == 0) {
			return JW_EXIT_OK;
		}
		if(got == 1) {
			jw_errorf("review", "the job was cancelled while waiting for the review");
			return JW_EXIT_FAILED;
		}
		if(got == 2) {
			return JW_EXIT_FAILED;
		}
	}
}

int jw_cmd_review(int argc, char **argv)
{
	struct jw_conn conn;
	struct review_opts o = {
	        getenv("JOBWIRE_SESSION"), getenv("JOBWIRE_JOB"), NULL, NULL, NULL, 0, 0, -1, 0, 0, 0};
	struct jw_client *cl = NULL;
	struct json_object *ev;
	char err[600], ctl[512], rej[300], topic[512];
	const char *text;
	int rc, mid, reason = 0;

	if(jw_conn_init(&conn, err, sizeof(err))) {
		jw_errorf("review", "%s", err);
		return JW_EXIT_USAGE;
	}
	if((rc = parse_options(argc, argv, &conn, &o)) >= 0) {
		return rc;
	}
	if(!(ev = question(&o))) {
		return JW_EXIT_USAGE;
	}
	snprintf(ctl, sizeof(ctl), "%s/%s/%s/control", conn.prefix, o.session, o.job);
	snprintf(topic, sizeof(topic), "%s/%s/%s/validation-required", conn.prefix, o.session, o.job);
	if(jw_client_open(&conn, NULL, &cl, err, sizeof(err))) {
		jw_errorf("review", "%s", err);
		json_object_put(ev);
		return JW_EXIT_CONNECT;
	}
	snprintf(rej, sizeof(rej), "$jobwire/rejections/%s", jw_client_id(cl));
	/* Listening before asking: an answer cannot come before the question. */
	if(jw_client_subscribe(cl, ctl, err, sizeof(err)) ||
	        jw_client_subscribe(cl, rej, err, sizeof(err))) {
		jw_errorf("review", "%s", err);
		rc = JW_EXIT_CONNECT;
		goto out;
	}
	text = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN);
	if(jw_client_publish(
	           cl, topic, text, strlen(text), 1, 0, rej, NULL, 0, &mid, err, sizeof(err)) ||
	        jw_client_wait_ack(cl, mid, 10, &reason)) {
		jw_errorf("review", "could not ask for the review: %s", err[0] ? err : "no PUBACK");
		rc = JW_EXIT_CONNECT;
		goto out;
	}
	if(reason >= 0x80) {
		struct jw_msg *m;

		jw_errorf("review", "the broker refused validation-required (reason 0x%02x)", reason);
		if(jw_client_next(cl, 2, &m)) {
			jw_errorf("review", "notice: %s", m->payload);
			jw_msg_free(m);
		}
		rc = JW_EXIT_FAILED;
		goto out;
	}
	fprintf(stderr, "jobwire review: waiting for a review of %s/%s\n", o.session, o.job);
	rc = wait_answer(cl, ctl, rej, &o);
out:
	json_object_put(ev);
	jw_client_close(cl);
	return rc;
}

/* Exports what a command run by `jobwire run` needs to reach the broker as
 * the same job: JOBWIRE_SESSION, JOBWIRE_JOB and the connection (never the
 * client id: the wrapper's own would be taken over). */
void jw_review_export_env(const struct jw_conn *c, const char *session, const char *job)
{
	char port[16], url[300];

	setenv("JOBWIRE_SESSION", session, 1);
	setenv("JOBWIRE_JOB", job, 1);
	snprintf(port, sizeof(port), "%d", c->port ? c->port : (c->tls ? 8883 : 1883));
	setenv("JOBWIRE_HOST", c->host, 1);
	setenv("JOBWIRE_PORT", port, 1);
	setenv("JOBWIRE_PREFIX", c->prefix, 1);
	if(c->tls) {
		snprintf(url, sizeof(url), "mqtts://%s", c->host);
		setenv("JOBWIRE_URL", url, 1);
	} else {
		unsetenv("JOBWIRE_URL");
	}
	if(c->has_username) {
		setenv("JOBWIRE_USERNAME", c->username, 1);
	}
	if(c->has_password) {
		setenv("JOBWIRE_PASSWORD", c->password, 1);
		unsetenv("JOBWIRE_TOKEN");
	}
	if(c->cafile) {
		setenv("JOBWIRE_CAFILE", c->cafile, 1);
	}
}
