/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire watch and jobwire wait: both follow the broker's retained state
 * topics ({prefix}/S/J/state). watch shows every matching job (redrawn in
 * place on a terminal, one line per change or JSON lines when piped); wait
 * blocks until one job ends and turns its outcome into the exit status.
 * watch --session S --job J follows that job's events instead: its
 * history first (the broker's answer to an MQTT 5 history request,
 * docs/topics.md "History"), then the live events, each once (by seq).
 */
#include <math.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "json.h"
#include "topic.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct job_view {
	char session[JW_ID_MAX + 1];
	char job[JW_ID_MAX + 1];
	char status[16];
	double progress; /* -1 when unknown */
	double eta;      /* -1 when unknown */
	char step[64];
	char message[160];
	char error[160];
	long attempt; /* 1, 2, ... after retries (docs/lifecycle.md) */
};

/* Reads a state payload into v. Returns 0 or -1 when it is not one. */
static int parse_state(const char *payload, size_t len, struct job_view *v)
{
	struct json_object *o = NULL, *x;
	struct jw_json_error je;
	memset(v, 0, sizeof(*v));
	v->progress = v->eta = -1;
	if(jw_json_parse(payload, len, 64, &o, &je) || !o ||
	        !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -1;
	}
	static const struct {
		const char *k;
		size_t off, cap;
	} strs[] = {
	        {"session_id", offsetof(struct job_view, session), JW_ID_MAX + 1},
	        {"job_id", offsetof(struct job_view, job), JW_ID_MAX + 1},
	        {"status", offsetof(struct job_view, status), 16},
	        {"step", offsetof(struct job_view, step), 64},
	        {"message", offsetof(struct job_view, message), 160},
	        {"error", offsetof(struct job_view, error), 160},
	};
	for(size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if(json_object_object_get_ex(o, strs[i].k, &x) &&
		        json_object_is_type(x, json_type_string)) {
			char *dst = (char *)v + strs[i].off;
			snprintf(dst, strs[i].cap, "%s", json_object_get_string(x));
			for(char *p = dst; *p; p++) {
				if((unsigned char)*p < 0x20 || *p == 0x7f) {
					*p = ' '; /* no terminal control characters from the wire */
				}
			}
		}
	}
	if(json_object_object_get_ex(o, "progress", &x) &&
	        (json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int))) {
		v->progress = json_object_get_double(x);
	}
	v->attempt = 1;
	if(json_object_object_get_ex(o, "attempt", &x) && json_object_is_type(x, json_type_int)) {
		v->attempt = (long)json_object_get_int64(x);
	}
	if(json_object_object_get_ex(o, "eta_s", &x) &&
	        (json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int))) {
		v->eta = json_object_get_double(x);
	}
	json_object_put(o);
	return v->status[0] && v->job[0] ? 0 : -1;
}

static void fmt_eta(double s, char *buf, size_t cap)
{
	if(s < 0 || !isfinite(s)) {
		snprintf(buf, cap, "-");
	} else if(s < 60) {
		snprintf(buf, cap, "%.0fs", s);
	} else if(s < 3600) {
		snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	} else if(s < 1e9) {
		snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
	} else {
		/* eta_s comes from the worker, unbounded: converting a larger
		 * number of hours to int would be undefined (INT_MIN here). */
		snprintf(buf, cap, ">31y");
	}
}

static int terminal(const char *status)
{
	return !strcmp(status, "complete") || !strcmp(status, "failed");
}

static void print_line(FILE *f, const struct job_view *v, int bar)
{
	char eta[32], id[300];
	fmt_eta(v->eta, eta, sizeof(eta));
	/* A retried job's later attempts read "s/j #2", as in history. */
	if(v->attempt > 1) {
		snprintf(id, sizeof(id), "%s/%s #%ld", v->session, v->job, v->attempt);
	} else {
		snprintf(id, sizeof(id), "%s/%s", v->session, v->job);
	}
	const char *text = !strcmp(v->status, "failed") && v->error[0] ? v->error : v->message;
	if(bar) {
		char b[21];
		int fill = v->progress < 0 ? 0 : (int)(v->progress / 5.0 + 0.5);
		for(int i = 0; i < 20; i++) {
			b[i] = i < fill ? '#' : '-';
		}
		b[20] = '\0';
		fprintf(f, "%-28.28s [%s] %5.1f%% %-8s ETA %-6s %-14.14s %.60s\033[K\n", id, b,
		        v->progress < 0 ? 0.0 : v->progress, v->status, eta, v->step, text);
	} else {
		char pct[16] = "-";
		if(v->progress >= 0) {
			snprintf(pct, sizeof(pct), "%.1f%%", v->progress);
		}
		fprintf(f, "%s %s %s eta=%s%s%s%s%s\n", id, v->status, pct, eta, v->step[0] ? " step=" : "",
		        v->step, text[0] ? " " : "", text);
	}
}

static const char watch_help[] =
        "usage: jobwire watch [--session S] [--job J] [--json] [--exit-when-done]\n"
        "\n"
        "Follows the retained state of matching jobs ({prefix}/S/J/state). On a\n"
        "terminal it redraws a table in place: progress bar, percent, status, ETA,\n"
        "step and message. Piped, it prints one line per state change, or with\n"
        "--json the state object itself (one JSON object per line).\n"
        "\n"
        "With --session and --job, it follows that job's events instead: the ones\n"
        "the broker kept (its history, all attempts) first, then the live ones,\n"
        "each once, as \"S/J seq=N type {event}\" lines (\"S/J #2 ...\" for a\n"
        "second attempt), or with --json {\"session\",\"job\",\"seq\",\"attempt\",\n"
        "\"type\",\"event\"} objects. --exit-when-done stops after complete or\n"
        "failed.\n"
        "\n"
        "  -s, --session S      one session [all: +]\n"
        "  -j, --job J          one job [all]\n"
        "      --json           JSON lines\n"
        "      --plain          lines even on a terminal\n"
        "      --exit-when-done stop once every job seen is complete or failed\n"
        "      --stations       the stations instead (stations/+/state; with -s S the\n"
        "                       session's views, stations/+/sessions/S, all a viewer\n"
        "                       token may read): one line per change, or with --json\n"
        "                       the station's state\n"
        "      --timeout T      stop after T (exit 2)\n"
        "\n"
        "Exit status: 0 (Ctrl-C or all done), 2 timeout, 3 cannot connect, 64 bad arguments.\n\n";

static const char wait_help[] =
        "usage: jobwire wait --session S --job J [--timeout T]\n"
        "\n"
        "Blocks until the job is complete or failed (from its retained state, so a\n"
        "job that already ended answers at once) and prints its final state line.\n"
        "\n"
        "  -s, --session S   [JOBWIRE_SESSION]\n"
        "  -j, --job J       [JOBWIRE_JOB]\n"
        "      --timeout T   give up after T, e.g. 90s, 10m [forever]\n"
        "      --json        print the final state as JSON\n"
        "  -q, --quiet       print nothing\n"
        "\n"
        "Exit status: 0 complete, 1 failed, 2 timeout, 3 cannot connect, 64 bad arguments.\n\n";

enum { O_SESSION = 1, O_JOB, O_JSON, O_PLAIN, O_DONE, O_TIMEOUT, O_QUIET, O_STATIONS };

static const struct jw_opt opts[] = {
        {"session", 's', 1, O_SESSION},
        {"job", 'j', 1, O_JOB},
        {"json", 0, 0, O_JSON},
        {"plain", 0, 0, O_PLAIN},
        {"exit-when-done", 0, 0, O_DONE},
        {"timeout", 0, 1, O_TIMEOUT},
        {"quiet", 'q', 0, O_QUIET},
        {"stations", 0, 0, O_STATIONS},
        JW_COMMON_OPTS,
        {NULL, 0, 0, 0},
};

#define MAX_VIEW 500

/* One run of watch or wait. */
struct follow {
	const char *cmd; /* "watch" or "wait" */
	int is_wait;
	const char *session, *job; /* NULL: all */
	int json, plain, until_done, quiet;
	int stations;   /* watch --stations: stations/+/state */
	double timeout; /* -1: none */
	struct jw_client *cl;
	struct job_view *views; /* MAX_VIEW, the first nviews used */
	size_t nviews;
	/* the table on a terminal */
	int tty, drawn, dirty;
	double last_draw;
};

/* Returns -1 to go on, else the exit status (after --help or a bad
 * option). */
static int parse_options(int argc, char **argv, struct jw_conn *conn, struct follow *f)
{
	char err[600];
	struct jw_args a;
	int id;
	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next(f->cmd, &a, opts, conn, 0)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case O_SESSION:
				f->session = a.value;
				break;
			case O_JOB:
				f->job = a.value;
				break;
			case O_JSON:
				f->json = 1;
				break;
			case O_PLAIN:
				f->plain = 1;
				break;
			case O_DONE:
				f->until_done = 1;
				break;
			case O_QUIET:
				f->quiet = 1;
				break;
			case O_STATIONS:
				f->stations = !f->is_wait;
				break;
			case O_TIMEOUT:
				if(jw_parse_duration(a.value, &f->timeout, err, sizeof(err))) {
					jw_errorf(f->cmd, "--timeout: %s", err);
					return JW_EXIT_USAGE;
				}
				break;
			default:
				break;
		}
	}
	if(conn->help) {
		fputs(f->is_wait ? wait_help : watch_help, stdout);
		fputs(jw_common_help, stdout);
		return 0;
	}
	if(f->is_wait && (!f->session || !f->job)) {
		jw_errorf(f->cmd, "need --session and --job (see --help)");
		return JW_EXIT_USAGE;
	}
	if(jw_cli_check_ids(f->cmd, f->session, f->job)) {
		return JW_EXIT_USAGE;
	}
	return -1;
}

/* Keeps v as the view of its job (new jobs beyond MAX_VIEW are not
 * shown). */
static void remember(struct follow *f, const struct job_view *v)
{
	size_t i;
	for(i = 0; i < f->nviews; i++) {
		if(!strcmp(f->views[i].job, v->job) && !strcmp(f->views[i].session, v->session)) {
			break;
		}
	}
	if(i == f->nviews && f->nviews < MAX_VIEW) {
		f->nviews++;
	}
	if(i < MAX_VIEW) {
		f->views[i] = *v;
	}
}

/* A state message. Returns 1 with *rc when wait has its answer. */
static int on_state(struct follow *f, const struct jw_msg *m, int *rc)
{
	struct job_view v;
	if(f->stations) {
		jw_station_print_state(stdout, m->payload, m->len, f->json);
		fflush(stdout);
		return 0;
	}
	if(m->len == 0 || parse_state(m->payload, m->len, &v) != 0) {
		return 0;
	}
	remember(f, &v);
	if(f->is_wait) {
		if(terminal(v.status)) {
			if(!f->quiet) {
				if(f->json) {
					printf("%s\n", m->payload);
				} else {
					print_line(stdout, &v, 0);
				}
			}
			*rc = !strcmp(v.status, "complete") ? JW_EXIT_OK : JW_EXIT_FAILED;
			return 1;
		}
	} else if(f->json) {
		printf("%s\n", m->payload);
		fflush(stdout);
	} else if(!f->tty) {
		print_line(stdout, &v, 0);
		fflush(stdout);
	}
	f->dirty = 1;
	return 0;
}

/* Redraws the table in place: back to the first row, then every job. */
static void redraw(struct follow *f)
{
	if(f->drawn) {
		printf("\033[%dA", f->drawn);
	}
	for(size_t i = 0; i < f->nviews; i++) {
		print_line(stdout, &f->views[i], 1);
	}
	printf("\033[J");
	fflush(stdout);
	f->drawn = (int)f->nviews;
	f->dirty = 0;
	f->last_draw = jw_now();
}

/* watch --exit-when-done: every job seen has ended (and is drawn). */
static int all_done(const struct follow *f)
{
	size_t done = 0;
	for(size_t i = 0; i < f->nviews; i++) {
		done += (size_t)terminal(f->views[i].status);
	}
	return done == f->nviews && (!f->tty || !f->dirty);
}

/* Follows the state messages until Ctrl-C, the timeout, wait's answer or
 * watch's all done. Returns the exit status. */
static int follow_loop(struct follow *f)
{
	double deadline = f->timeout >= 0 ? jw_now() + f->timeout : -1;
	int rc = JW_EXIT_OK;
	while(!stop_flag) {
		double wait = 0.2;
		if(deadline >= 0) {
			double left = deadline - jw_now();
			if(left <= 0) {
				if(f->is_wait && !f->quiet) {
					fprintf(stderr, "jobwire wait: %s/%s did not end within %gs\n", f->session,
					        f->job, f->timeout);
				}
				return JW_EXIT_TIMEOUT;
			}
			wait = left < wait ? left : wait;
		}
		struct jw_msg *m = NULL;
		if(jw_client_next(f->cl, wait, &m)) {
			int answered = on_state(f, m, &rc);
			jw_msg_free(m);
			if(answered) {
				break;
			}
		}
		if(f->tty && f->dirty && jw_now() - f->last_draw >= 0.1) {
			redraw(f);
		}
		if(!f->is_wait && f->until_done && f->nviews > 0 && all_done(f)) {
			break;
		}
	}
	return rc;
}

/* ---- one job's events: its history, then the live ones ---- */

/* Where watch --session --job is in the job's events. */
struct job_events {
	const char *session, *job;
	unsigned long long seq; /* of the last event printed */
	long attempt;
	int ended, retry; /* the last end was failed / a retry was asked since */
	int done;         /* complete or failed printed (--exit-when-done) */
};

/* Prints one event: a line, or with --json an object. */
static void print_event(const struct follow *f, const struct job_events *je, unsigned long long seq,
        long attempt, const char *type, struct json_object *ev)
{
	const char *text = ev ? json_object_to_json_string_ext(
	                                ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
	                      : "null";

	if(f->json) {
		printf("{\"session\":\"%s\",\"job\":\"%s\",\"seq\":%llu,\"attempt\":%ld,\"type\":\"%s\","
		       "\"event\":%s}\n",
		        je->session, je->job, seq, attempt, type, text);
	} else if(attempt > 1) {
		printf("%s/%s #%ld seq=%llu %s %s\n", je->session, je->job, attempt, seq, type, text);
	} else {
		printf("%s/%s seq=%llu %s %s\n", je->session, je->job, seq, type, text);
	}
	fflush(stdout);
}

/* What an event does to the attempt count, as the broker counts it
 * (docs/lifecycle.md, "Retry"): a started after a failure and a retry
 * request opens the next attempt. */
static void track(struct job_events *je, const char *type, struct json_object *ev)
{
	struct json_object *x;

	if(!strcmp(type, "failed")) {
		je->ended = 1;
		je->retry = 0;
	} else if(!strcmp(type, "complete")) {
		je->ended = 0;
		je->retry = 0;
	} else if(!strcmp(type, "control") && je->ended && ev &&
	          json_object_object_get_ex(ev, "action", &x) &&
	          !strcmp(json_object_get_string(x), "retry")) {
		je->retry = 1;
	} else if(!strcmp(type, "started") && je->retry) {
		je->attempt++;
		je->ended = je->retry = 0;
	}
	je->done = terminal(type);
}

/* A live event on {prefix}/S/J/{type} (state skipped): the next seq. */
static void on_live_event(const struct follow *f, struct job_events *je, const struct jw_msg *m)
{
	const char *type = strrchr(m->topic, '/');
	struct json_object *ev = NULL;
	struct jw_json_error jerr;

	if(!type || !strcmp(++type, "state")) {
		return;
	}
	if(m->len && jw_json_parse(m->payload, m->len, 64, &ev, &jerr)) {
		ev = NULL;
	}
	track(je, type, ev);
	print_event(f, je, ++je->seq, je->attempt, type, ev);
	json_object_put(ev);
}

/* The broker's answer to the history request: prints its events.
 * Returns 0, or -1 when it is an error (said on stderr). */
static int on_history(const struct follow *f, struct job_events *je, const struct jw_msg *m)
{
	struct json_object *o = NULL, *x, *events;
	struct jw_json_error jerr;
	int rc = -1;

	if(jw_json_parse(m->payload, m->len, 128, &o, &jerr) ||
	        !json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "jobwire watch: the history answer is not JSON\n");
		goto out;
	}
	if(json_object_object_get_ex(o, "error", &x)) {
		struct json_object *msg = NULL;

		json_object_object_get_ex(o, "message", &msg);
		if(strcmp(json_object_get_string(x), "unknown_job") != 0) {
			fprintf(stderr, "jobwire watch: no history: %s: %s\n", json_object_get_string(x),
			        msg ? json_object_get_string(msg) : "");
		}
		goto out;
	}
	if(json_object_object_get_ex(o, "truncated", &x) && json_object_get_boolean(x) && !f->json) {
		fprintf(stderr, "jobwire watch: the broker no longer keeps the job's first events\n");
	}
	if(json_object_object_get_ex(o, "events", &events) &&
	        json_object_is_type(events, json_type_array)) {
		for(size_t i = 0; i < json_object_array_length(events); i++) {
			struct json_object *e = json_object_array_get_idx(events, i), *seq, *att, *type, *ev;

			if(!json_object_object_get_ex(e, "seq", &seq) ||
			        !json_object_object_get_ex(e, "attempt", &att) ||
			        !json_object_object_get_ex(e, "type", &type) ||
			        !json_object_object_get_ex(e, "event", &ev)) {
				continue;
			}
			je->seq = (unsigned long long)json_object_get_int64(seq);
			/* The broker's attempt is the one shown; tracking only
			 * keeps what the live events need. */
			track(je, json_object_get_string(type), ev);
			je->attempt = (long)json_object_get_int64(att);
			print_event(f, je, je->seq, je->attempt, json_object_get_string(type), ev);
		}
	}
	/* The job's seq and attempt now: the next live event follows them. */
	if(json_object_object_get_ex(o, "seq", &x)) {
		je->seq = (unsigned long long)json_object_get_int64(x);
	}
	if(json_object_object_get_ex(o, "attempt", &x)) {
		je->attempt = (long)json_object_get_int64(x);
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

/* The queued live events, printed (the history could not be had). */
struct pending {
	struct jw_msg **m;
	size_t n, cap;
};

static void pending_flush(
        const struct follow *f, struct job_events *je, struct pending *q, int print)
{
	for(size_t i = 0; i < q->n; i++) {
		if(print) {
			on_live_event(f, je, q->m[i]);
		}
		jw_msg_free(q->m[i]);
	}
	q->n = 0;
}

/*
 * watch --session S --job J. Subscribed to the job's topics first, then
 * the history is asked for: the broker answers after queueing every event
 * accepted before the request for this client, so the live events that
 * come before the answer are the history's last ones (dropped), and those
 * after it are new (seq goes on from the answer's). Returns the exit
 * status.
 */
static int follow_events(struct follow *f, const struct jw_conn *conn)
{
	char topic[512], replies[700], err[600];
	struct job_events je = {f->session, f->job, 0, 1, 0, 0, 0};
	struct pending q = {NULL, 0, 0};
	double deadline = f->timeout >= 0 ? jw_now() + f->timeout : -1;
	double answer_by = jw_now() + 10;
	int have_answer = 0, rc = JW_EXIT_OK, n;

	n = jw_topic_client_level(
	        replies, sizeof(replies) - 16, JW_REPLIES_PREFIX, jw_client_id(f->cl));
	if(n < 0) {
		jw_errorf(f->cmd, "client id too long");
		return JW_EXIT_USAGE;
	}
	memcpy(replies + n, "/history", sizeof("/history"));
	snprintf(topic, sizeof(topic), "%s/%s/%s/+", conn->prefix, f->session, f->job);
	if(jw_client_subscribe(f->cl, topic, err, sizeof(err)) ||
	        jw_client_subscribe(f->cl, replies, err, sizeof(err))) {
		jw_errorf(f->cmd, "%s", err);
		return JW_EXIT_CONNECT;
	}
	snprintf(topic, sizeof(topic), "$jobwire/history/%s/%s", f->session, f->job);
	if(jw_client_publish(f->cl, topic, "", 0, 1, 0, replies, "watch", 5, NULL, err, sizeof(err))) {
		jw_errorf(f->cmd, "%s", err);
		return JW_EXIT_CONNECT;
	}
	while(!stop_flag && !(f->until_done && je.done)) {
		struct jw_msg *m = NULL;
		double wait = 0.2;

		if(deadline >= 0 && jw_now() >= deadline) {
			rc = JW_EXIT_TIMEOUT;
			break;
		}
		if(!have_answer && jw_now() >= answer_by) {
			fprintf(stderr, "jobwire watch: no answer to the history request\n");
			pending_flush(f, &je, &q, 1);
			have_answer = 1;
		}
		if(!jw_client_next(f->cl, wait, &m)) {
			continue;
		}
		if(!strcmp(m->topic, replies)) {
			if(!have_answer) {
				have_answer = 1;
				/* An error: the events queued so far are all there is. */
				pending_flush(f, &je, &q, on_history(f, &je, m) != 0);
			}
			jw_msg_free(m);
			continue;
		}
		if(have_answer) {
			on_live_event(f, &je, m);
			jw_msg_free(m);
			continue;
		}
		if(q.n == q.cap) {
			size_t cap = q.cap ? q.cap * 2 : 16;
			struct jw_msg **grown = realloc(q.m, cap * sizeof(*grown));

			if(!grown) {
				jw_msg_free(m);
				rc = JW_EXIT_SOFTWARE;
				break;
			}
			q.m = grown;
			q.cap = cap;
		}
		q.m[q.n++] = m;
	}
	pending_flush(f, &je, &q, 0);
	free(q.m);
	return rc;
}

static int follow(int argc, char **argv, int is_wait)
{
	struct jw_conn conn;
	char err[600], topic[512];
	struct follow f;
	memset(&f, 0, sizeof(f));
	f.cmd = is_wait ? "wait" : "watch";
	f.is_wait = is_wait;
	f.session = is_wait ? getenv("JOBWIRE_SESSION") : NULL;
	f.job = is_wait ? getenv("JOBWIRE_JOB") : NULL;
	f.until_done = is_wait;
	f.timeout = -1;
	int rc;

	if(jw_conn_init(&conn, err, sizeof(err))) {
		jw_errorf(f.cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	if((rc = parse_options(argc, argv, &conn, &f)) >= 0) {
		return rc;
	}
	snprintf(topic, sizeof(topic), "%s/%s/%s/state", conn.prefix, f.session ? f.session : "+",
	        f.job ? f.job : "+");
	if(f.stations) {
		/* With -s S, that session's views: what a viewer's token may
		 * read (docs/topics.md, "Stations"). */
		if(f.session) {
			snprintf(topic, sizeof(topic), "stations/+/sessions/%s", f.session);
		} else {
			snprintf(topic, sizeof(topic), "stations/+/state");
		}
	}
	if(jw_client_open(&conn, NULL, &f.cl, err, sizeof(err))) {
		jw_errorf(f.cmd, "%s", err);
		return JW_EXIT_CONNECT;
	}
	if(!is_wait && f.session && f.job) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = follow_events(&f, &conn);
		goto out;
	}
	if(jw_client_subscribe(f.cl, topic, err, sizeof(err))) {
		jw_errorf(f.cmd, "%s", err);
		rc = JW_EXIT_CONNECT;
		goto out;
	}
	f.views = calloc(MAX_VIEW, sizeof(*f.views));
	if(!f.views) {
		rc = JW_EXIT_SOFTWARE;
		goto out;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	f.tty = !is_wait && !f.json && !f.plain && !f.stations && isatty(STDOUT_FILENO);
	if(f.tty) {
		printf("watching %s (Ctrl-C to stop)\n", topic);
	}
	rc = follow_loop(&f);
out:
	jw_client_close(f.cl);
	free(f.views);
	return rc;
}

int jw_cmd_watch(int argc, char **argv)
{
	return follow(argc, argv, 0);
}

int jw_cmd_wait(int argc, char **argv)
{
	return follow(argc, argv, 1);
}
