/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire bridge: a libwebsockets client for a legacy JSON-over-WebSocket
 * progress feed. Each message goes through the pure mapper (legacy.c),
 * is checked with the broker's schemas and republished as a jobwire event.
 * The feed is reconnected with exponential backoff; messages the mapper
 * cannot express are reported on stderr and counted, never guessed at.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "cli.h"
#include "event.h"
#include "legacy.h"
#include "schemaset.h"
#include "topic.h"
#include "util/buf.h"

static const char help[] =
        "usage: jobwire bridge --from ws://host[:port]/path [--session S]\n"
        "\n"
        "Connects to a legacy progress WebSocket (the FastAPI + Redis designs:\n"
        "{\"type\":\"progress_update\",\"data\":{...}}, {\"type\":\"progress\",...},\n"
        "variant_update, ProcessingStarted/Progress/Complete/Failed, ValidationRequired,\n"
        "SystemStatus, job_created/job_updated/job_started/job_completed/job_failed) and\n"
        "republishes every message as a jobwire event, checked against the schemas.\n"
        "Messages that cannot be mapped are reported on stderr, not guessed.\n"
        "The feed is reconnected with exponential backoff.\n"
        "\n"
        "      --from URL        ws:// or wss:// URL of the feed (required)\n"
        "  -s, --session S       session for messages that name none [JOBWIRE_SESSION, else "
        "legacy]\n"
        "      --max-backoff T   longest wait between reconnects [30s]\n"
        "      --max-messages N  stop after N feed messages (for tests)\n"
        "      --no-local-check  publish mapped events without checking them first\n"
        "  -v, --verbose         also print each republished event and ignored message\n"
        "\n"
        "Exit status: 0 stopped (SIGINT/SIGTERM, --max-messages), 3 cannot connect to\n"
        "the broker, 64 bad arguments.\n\n";

enum { O_FROM = 1, O_SESSION, O_BACKOFF, O_MAXMSG, O_NOCHECK, O_VERBOSE };

static const struct jw_opt opts[] = {
        {"from", 0, 1, O_FROM},
        {"session", 's', 1, O_SESSION},
        {"max-backoff", 0, 1, O_BACKOFF},
        {"max-messages", 0, 1, O_MAXMSG},
        {"no-local-check", 0, 0, O_NOCHECK},
        {"verbose", 'v', 0, O_VERBOSE},
        JW_COMMON_OPTS,
        {NULL, 0, 0, 0},
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct bridge {
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
	char url[1024];
	char host[256];
	char path[768];
	int port;
	int tls;
	double backoff, max_backoff, next_try;
	int connected;
	struct jw_buf msg; /* the message being received, 16 MiB at most */
	struct jw_legacy *lg;
	struct jw_client *cl;
	struct jw_schemaset *set;
	const char *prefix;
	int verbose, local_check;
	long max_messages;
	unsigned long received, published, unmapped, ignored, invalid, refused, connects;
};

static void handle(struct bridge *b, const char *msg, size_t len)
{
	b->received++;
	struct jw_legacy_event ev;
	char why[300];
	enum jw_legacy_result r = jw_legacy_map(b->lg, msg, len, &ev, why, sizeof(why));
	if(r == JW_LEGACY_IGNORED) {
		b->ignored++;
		if(b->verbose) {
			fprintf(stderr, "jobwire bridge: ignored: %s\n", why);
		}
		return;
	}
	if(r == JW_LEGACY_UNMAPPED) {
		b->unmapped++;
		fprintf(stderr, "jobwire bridge: unmapped message (%s): %.*s\n", why,
		        (int)(len > 300 ? 300 : len), msg);
		return;
	}
	char topic[512], err[300];
	struct jw_topic t;
	jw_topic_format(topic, sizeof(topic), b->prefix, ev.session, ev.job, ev.type);
	if(b->local_check) {
		struct jw_verdict v;
		struct jw_event_limits lim = {JW_DEFAULT_MAX_PAYLOAD, JW_DEFAULT_MAX_DEPTH};
		if(jw_topic_parse(b->prefix, topic, &t) != JW_TOPIC_JOB ||
		        jw_event_check(b->set, &t, ev.payload, strlen(ev.payload), &lim, &v)) {
			b->invalid++;
			fprintf(stderr,
			        "jobwire bridge: mapped event is not valid, not published (%s: %s): %s\n",
			        jw_reason_name(v.reason), v.message, ev.payload);
			jw_legacy_event_cleanup(&ev);
			return;
		}
	}
	if(jw_client_publish(b->cl, topic, ev.payload, strlen(ev.payload), 1, 0, NULL, NULL, 0, NULL,
	           err, sizeof(err))) {
		fprintf(stderr, "jobwire bridge: %s\n", err);
	} else {
		b->published++;
		if(b->verbose) {
			fprintf(stderr, "jobwire bridge: %s %s\n", topic, ev.payload);
		}
	}
	jw_legacy_event_cleanup(&ev);
}

/* The feed is down: try again after the backoff, which doubles up to
 * max_backoff. */
static void retry_later(struct bridge *b)
{
	b->wsi = NULL;
	b->next_try = jw_now() + b->backoff;
	b->backoff = b->backoff * 2 > b->max_backoff ? b->max_backoff : b->backoff * 2;
}

/* A notice on the rejection topic: the broker refused an event. */
static void on_refusal(struct bridge *b, struct jw_msg *m)
{
	b->refused++;
	fprintf(stderr, "jobwire bridge: the broker refused an event: %s\n", m->payload);
	jw_msg_free(m);
}

static int ws_cb(
        struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	struct bridge *b = lws_context_user(lws_get_context(wsi));
	switch(reason) {
		case LWS_CALLBACK_CLIENT_ESTABLISHED:
			b->connected = 1;
			b->connects++;
			b->backoff = b->max_backoff < 0.5 ? b->max_backoff : 0.5;
			jw_buf_reset(&b->msg);
			fprintf(stderr, "jobwire bridge: connected to %s\n", b->url);
			break;
		case LWS_CALLBACK_CLIENT_RECEIVE:
			if(jw_buf_add(&b->msg, in, len) != 0) {
				if(b->msg.err == -EMSGSIZE) {
					fprintf(stderr, "jobwire bridge: message larger than 16 MiB dropped\n");
					b->unmapped++;
				}
				jw_buf_reset(&b->msg);
				return -1;
			}
			if(lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
				handle(b, b->msg.p, b->msg.len);
				jw_buf_reset(&b->msg);
				if(b->max_messages > 0 && b->received >= (unsigned long)b->max_messages) {
					stop_flag = 1;
				}
			}
			break;
		case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
			fprintf(stderr, "jobwire bridge: cannot connect to %s: %s; retrying in %.1fs\n", b->url,
			        in ? (const char *)in : "error", b->backoff);
			b->connected = 0;
			retry_later(b);
			break;
		case LWS_CALLBACK_CLIENT_CLOSED:
			fprintf(stderr, "jobwire bridge: %s closed; reconnecting in %.1fs\n", b->url,
			        b->backoff);
			b->connected = 0;
			retry_later(b);
			break;
		default:
			break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
        {"jobwire-bridge", ws_cb, 0, 65536, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void try_connect(struct bridge *b)
{
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.context = b->ctx;
	ci.address = b->host;
	ci.port = b->port;
	ci.path = b->path;
	ci.host = b->host;
	ci.origin = b->host;
	ci.ssl_connection = b->tls ? LCCSCF_USE_SSL : 0;
	ci.pwsi = &b->wsi;
	b->next_try = jw_now() + 3600; /* until a callback says otherwise */
	if(!lws_client_connect_via_info(&ci)) {
		retry_later(b);
	}
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct bridge *b = lws_container_of(sul, struct bridge, sul);
	if(!b->wsi && jw_now() >= b->next_try && !stop_flag) {
		try_connect(b);
	}
	struct jw_msg *m;
	while(jw_client_next(b->cl, 0, &m)) {
		on_refusal(b, m);
	}
	lws_sul_schedule(b->ctx, 0, &b->sul, tick, 100 * LWS_US_PER_MS);
}

static int parse_ws_url(struct bridge *b, const char *url, char *err, size_t errlen)
{
	char tmp[1024];
	if(strlen(url) >= sizeof(tmp)) {
		snprintf(err, errlen, "--from: URL too long");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s", url);
	const char *prot, *ads, *path;
	int port;
	if(lws_parse_uri(tmp, &prot, &ads, &port, &path) || !ads[0]) {
		snprintf(err, errlen, "--from: \"%.80s\" is not a ws:// or wss:// URL", url);
		return -1;
	}
	if(strcmp(prot, "ws") && strcmp(prot, "wss")) {
		snprintf(err, errlen, "--from: scheme must be ws or wss, got \"%.20s\"", prot);
		return -1;
	}
	b->tls = !strcmp(prot, "wss");
	if(!strstr(url + strlen(prot) + 3, ":")) {
		port = b->tls ? 443 : 80;
	}
	if(port <= 0 || port > 65535) {
		snprintf(err, errlen, "--from: bad port");
		return -1;
	}
	b->port = port;
	snprintf(b->host, sizeof(b->host), "%s", ads);
	snprintf(b->path, sizeof(b->path), "/%s", path);
	snprintf(b->url, sizeof(b->url), "%s", url);
	return 0;
}

/* Returns -1 to go on, else the exit status (after --help or a bad
 * option). */
static int parse_options(int argc, char **argv, struct jw_conn *conn, struct bridge *b,
        const char **from, const char **session)
{
	const char *cmd = "bridge";
	char err[600];
	struct jw_args a;
	int id;
	long n;
	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next(cmd, &a, opts, conn, 0)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case O_FROM:
				*from = a.value;
				break;
			case O_SESSION:
				*session = a.value;
				break;
			case O_BACKOFF:
				if(jw_parse_duration(a.value, &b->max_backoff, err, sizeof(err)) ||
				        b->max_backoff < 0.1) {
					jw_errorf(cmd, "--max-backoff: %s",
					        b->max_backoff < 0.1 ? "at least 100ms" : err);
					return JW_EXIT_USAGE;
				}
				break;
			case O_MAXMSG:
				if(jw_parse_long(a.value, 1, 1000000000L, &n, "--max-messages", err, sizeof(err))) {
					jw_errorf(cmd, "%s", err);
					return JW_EXIT_USAGE;
				}
				b->max_messages = n;
				break;
			case O_NOCHECK:
				b->local_check = 0;
				break;
			case O_VERBOSE:
				b->verbose = 1;
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
	return -1;
}

/* The feed's URL and the mapper for session. 0 or JW_EXIT_USAGE. */
static int setup_feed(struct bridge *b, const char *from, const char *session)
{
	const char *cmd = "bridge";
	char err[600];
	if(!from) {
		jw_errorf(cmd, "--from ws://host/path is required (see --help)");
		return JW_EXIT_USAGE;
	}
	if(parse_ws_url(b, from, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	if(!session) {
		session = "legacy";
	}
	if(b->backoff > b->max_backoff) {
		b->backoff = b->max_backoff;
	}
	b->lg = jw_legacy_new(session);
	if(!b->lg) {
		jw_errorf(cmd, "--session \"%.60s\" is not a session id (1-128 of A-Z a-z 0-9 . _ -)",
		        session);
		return JW_EXIT_USAGE;
	}
	return 0;
}

/* Loads the schemas, connects to the broker and subscribes to this
 * client's rejections. 0 or an exit status. */
static int connect_broker(struct bridge *b, const struct jw_conn *conn)
{
	const char *cmd = "bridge";
	char err[600], rej[300];
	if(jw_cli_load_schemas(conn->schemas, &b->set, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	if(jw_client_open(conn, NULL, &b->cl, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_CONNECT;
	}
	snprintf(rej, sizeof(rej), "$jobwire/rejections/%s", jw_client_id(b->cl));
	if(jw_client_subscribe(b->cl, rej, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_CONNECT;
	}
	return 0;
}

/* The WebSocket client context. 0 or JW_EXIT_SOFTWARE. */
static int create_ws_context(struct bridge *b)
{
	lws_set_log_level(0, NULL);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.user = b;
	info.gid = -1;
	info.uid = -1;
	if(b->tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	}
	b->ctx = lws_create_context(&info);
	if(!b->ctx) {
		jw_errorf("bridge", "cannot create the WebSocket context");
		return JW_EXIT_SOFTWARE;
	}
	return 0;
}

/* Serves the feed until SIGINT, SIGTERM or --max-messages, then prints
 * the counts. */
static void run_bridge(struct bridge *b)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	lws_sul_schedule(b->ctx, 0, &b->sul, tick, 1);
	while(!stop_flag) {
		if(lws_service(b->ctx, 0) < 0) {
			break;
		}
	}
	/* Let the last QoS 1 publishes go out before disconnecting. */
	double until = jw_now() + 1;
	while(jw_now() < until) {
		struct jw_msg *m;
		if(jw_client_next(b->cl, 0.1, &m)) {
			on_refusal(b, m);
		}
	}
	fprintf(stderr,
	        "jobwire bridge: %lu received, %lu published, %lu unmapped, %lu ignored, "
	        "%lu invalid, %lu refused by the broker, %lu connections\n",
	        b->received, b->published, b->unmapped, b->ignored, b->invalid, b->refused,
	        b->connects);
}

int jw_cmd_bridge(int argc, char **argv)
{
	struct jw_conn conn;
	char err[600];
	const char *from = NULL, *session = getenv("JOBWIRE_SESSION");
	struct bridge b;
	memset(&b, 0, sizeof(b));
	jw_buf_init(&b.msg, 16u << 20);
	b.max_backoff = 30;
	b.backoff = 0.5;
	b.local_check = 1;
	int rc;
	if(jw_conn_init(&conn, err, sizeof(err))) {
		jw_errorf("bridge", "%s", err);
		return JW_EXIT_USAGE;
	}
	if((rc = parse_options(argc, argv, &conn, &b, &from, &session)) >= 0) {
		return rc;
	}
	if((rc = setup_feed(&b, from, session))) {
		return rc;
	}
	b.prefix = conn.prefix;
	if((rc = connect_broker(&b, &conn)) == 0 && (rc = create_ws_context(&b)) == 0) {
		run_bridge(&b);
		rc = JW_EXIT_OK;
	}
	if(b.ctx) {
		lws_context_destroy(b.ctx);
	}
	jw_client_close(b.cl);
	jw_schemaset_free(b.set);
	jw_legacy_free(b.lg);
	jw_buf_cleanup(&b.msg);
	return rc;
}
