/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire metrics: a Prometheus exporter. A collector thread keeps an
 * MQTT subscription to the retained $jobwire/stats (and the broker's
 * $SYS client count) and holds the latest message; the main thread runs
 * libwebsockets' HTTP server, which renders /metrics from it on every
 * scrape (metrics_text.c). A broker that is down is jobwire_up 0, never
 * a dead endpoint: the exporter starts and keeps serving without it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libwebsockets.h>

#include "cli.h"
#include "json.h"
#include "metrics_text.h"
#include "util/clock.h"

#define STATS_TOPIC "$jobwire/stats"
#define CLIENTS_TOPIC "$SYS/broker/clients/connected"

static const char help[] =
        "usage: jobwire metrics [--listen ADDR:PORT] [connection options]\n"
        "\n"
        "Serves the broker's $jobwire/stats as Prometheus metrics on\n"
        "http://ADDR:PORT/metrics (text format 0.0.4) and a short page on /.\n"
        "jobwire_up is 0 while the broker is unreachable or has sent no stats;\n"
        "the exporter keeps serving and reconnects. With JWT on, use an admin\n"
        "token (only admins may read $jobwire/stats). Names and alert rules:\n"
        "docs/operations.md.\n"
        "\n"
        "      --listen ADDR:PORT  address and port to serve on [127.0.0.1:9883];\n"
        "                          ADDR may be an IPv4 address, [IPv6] or empty\n"
        "                          (\":9883\", every interface)\n"
        "\n"
        "Exit status: 0 stopped by SIGINT/SIGTERM, 3 cannot listen, 64 bad arguments.\n"
        "\n";

enum { O_LISTEN = 1 };

static const struct jw_opt opts[] = {
        {"listen", 0, 1, O_LISTEN},
        JW_COMMON_OPTS,
        {NULL, 0, 0, 0},
};

/* What the collector thread shares with the HTTP side, under lock. */
struct exporter {
	pthread_mutex_t lock;
	struct json_object *stats; /* latest $jobwire/stats, NULL while none */
	int connected;
	int64_t clients; /* -1 unknown */
	atomic_int stop;
	struct jw_conn conn;
};

static atomic_int signalled;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&signalled, 1);
}

static void set_state(struct exporter *x, int connected, struct json_object *stats, int64_t clients)
{
	struct json_object *old;

	pthread_mutex_lock(&x->lock);
	old = x->stats;
	x->stats = stats;
	x->connected = connected;
	x->clients = clients;
	pthread_mutex_unlock(&x->lock);
	json_object_put(old);
}

/* Sleeps up to s seconds, returning early when asked to stop. */
static void nap(struct exporter *x, double s)
{
	struct timespec ts = {0, 100 * 1000 * 1000};

	for(double t = 0; t < s && !atomic_load(&x->stop); t += 0.1) {
		nanosleep(&ts, NULL);
	}
}

static void take_message(struct exporter *x, const struct jw_msg *m)
{
	if(!strcmp(m->topic, STATS_TOPIC)) {
		struct json_object *o = NULL;
		struct jw_json_error je;

		if(jw_json_parse(m->payload, m->len, 64, &o, &je) ||
		        !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			fprintf(stderr, "jobwire metrics: ignoring a %s message that is not a JSON object\n",
			        STATS_TOPIC);
			return;
		}
		pthread_mutex_lock(&x->lock);
		struct json_object *old = x->stats;
		x->stats = o;
		pthread_mutex_unlock(&x->lock);
		json_object_put(old);
	} else if(!strcmp(m->topic, CLIENTS_TOPIC)) {
		long n;
		char err[100];

		if(jw_parse_long(m->payload, 0, 1000000000L, &n, "clients", err, sizeof(err)) == 0) {
			pthread_mutex_lock(&x->lock);
			x->clients = n;
			pthread_mutex_unlock(&x->lock);
		}
	}
}

/*
 * The collector: connects (retrying every 2 s), subscribes, and keeps the
 * latest messages. The client library reconnects and subscribes again by
 * itself after a lost connection; what was held is dropped meanwhile, so
 * a scrape never shows counters of a broker it cannot see.
 */
static void *collect(void *arg)
{
	struct exporter *x = arg;
	struct jw_client *cl = NULL;
	char err[600], last_err[600] = "";
	int was_connected = 0;

	while(!atomic_load(&x->stop)) {
		if(!cl) {
			if(jw_client_open(&x->conn, NULL, &cl, err, sizeof(err)) == 0 &&
			        jw_client_subscribe(cl, STATS_TOPIC, err, sizeof(err)) == 0) {
				char ignored[300];
				/* Optional: a token that may not read $SYS just leaves
				 * jobwire_clients_connected out. */
				(void)jw_client_subscribe(cl, CLIENTS_TOPIC, ignored, sizeof(ignored));
				fprintf(stderr, "jobwire metrics: connected to %s:%d\n", x->conn.host,
				        x->conn.port);
				last_err[0] = '\0';
				was_connected = 1;
				set_state(x, 1, NULL, -1);
			} else {
				jw_client_close(cl);
				cl = NULL;
				if(strcmp(err, last_err)) {
					fprintf(stderr, "jobwire metrics: %s%s; retrying every 2 s\n", err,
					        strstr(err, "refused the subscription")
					                ? " (with JWT on, only admin tokens may read " STATS_TOPIC ")"
					                : "");
					snprintf(last_err, sizeof(last_err), "%s", err);
				}
				nap(x, 2);
				continue;
			}
		}
		struct jw_msg *m = NULL;
		if(jw_client_next(cl, 0.25, &m) == 1) {
			take_message(x, m);
			jw_msg_free(m);
		}
		int now_connected = jw_client_connected(cl);
		if(now_connected != was_connected) {
			fprintf(stderr, "jobwire metrics: %s %s:%d\n",
			        now_connected ? "reconnected to" : "lost the connection to", x->conn.host,
			        x->conn.port);
			if(!now_connected) {
				set_state(x, 0, NULL, -1);
			} else {
				pthread_mutex_lock(&x->lock);
				x->connected = 1;
				pthread_mutex_unlock(&x->lock);
			}
			was_connected = now_connected;
		}
	}
	jw_client_close(cl);
	return NULL;
}

/* ---- HTTP ------------------------------------------------------------- */

static const char index_html[] =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>jobwire "
        "metrics</title></head>\n"
        "<body><h1>jobwire metrics</h1>\n"
        "<p>Prometheus metrics of a jobwire broker: <a href=\"/metrics\">/metrics</a>.</p>\n"
        "</body></html>\n";

/* One HTTP transaction's response body, sent in pieces as the socket takes it. */
struct pss {
	char *body;
	size_t len, sent;
};

static void pss_clear(struct pss *s)
{
	free(s->body);
	s->body = NULL;
	s->len = s->sent = 0;
}

static int respond(
        struct lws *wsi, struct pss *s, unsigned status, const char *ctype, char *body, size_t len)
{
	unsigned char buf[LWS_PRE + 1024], *start = &buf[LWS_PRE], *p = start,
	                                   *end = &buf[sizeof(buf) - 1];

	pss_clear(s);
	s->body = body;
	s->len = len;
	if(lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)len, &p, end) ||
	        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
	                (const unsigned char *)"no-store", 8, &p, end) ||
	        lws_finalize_write_http_header(wsi, start, &p, end)) {
		return 1;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

static char *dup_text(const char *text, size_t *len)
{
	char *c = strdup(text);

	*len = c ? strlen(c) : 0;
	return c;
}

/* A request: /metrics, the index page or not found. */
static int on_request(struct lws *wsi, struct exporter *x, struct pss *s, const char *path)
{
	char *body = NULL;
	size_t blen = 0;

	if(!strcmp(path, "/metrics")) {
		double now = (double)jw_clock_ns(CLOCK_REALTIME) / 1e9;
		pthread_mutex_lock(&x->lock);
		struct jw_metrics_input mi = {x->connected, x->stats, x->clients, now};
		int rc = jw_metrics_render(&mi, &body, &blen);
		pthread_mutex_unlock(&x->lock);
		if(rc) {
			return lws_return_http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, NULL) ? -1 : 0;
		}
		return respond(wsi, s, HTTP_STATUS_OK, JW_METRICS_CONTENT_TYPE, body, blen);
	}
	if(!strcmp(path, "/")) {
		body = dup_text(index_html, &blen);
		return body ? respond(wsi, s, HTTP_STATUS_OK, "text/html; charset=utf-8", body, blen) : -1;
	}
	body = dup_text("not found: try /metrics\n", &blen);
	return body ? respond(wsi, s, HTTP_STATUS_NOT_FOUND, "text/plain; charset=utf-8", body, blen)
	            : -1;
}

/* Sends the next piece of the response body; ends the transaction after
 * the last. */
static int send_body(struct lws *wsi, struct pss *s)
{
	unsigned char buf[LWS_PRE + 16384];
	size_t n = s->len - s->sent;
	if(n > sizeof(buf) - LWS_PRE) {
		n = sizeof(buf) - LWS_PRE;
	}
	int final = s->sent + n == s->len;
	memcpy(&buf[LWS_PRE], s->body + s->sent, n);
	if(lws_write(wsi, &buf[LWS_PRE], n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) {
		pss_clear(s);
		return -1;
	}
	s->sent += n;
	if(!final) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	pss_clear(s);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_cb(
        struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct pss *s = user;
	struct exporter *x = lws_context_user(lws_get_context(wsi));

	switch(reason) {
		case LWS_CALLBACK_HTTP:
			return s ? on_request(wsi, x, s, in) : -1;
		case LWS_CALLBACK_HTTP_WRITEABLE:
			if(s && s->body) {
				return send_body(wsi, s);
			}
			break;
		case LWS_CALLBACK_CLOSED_HTTP:
		case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
			/* Also for connections closed before any request: no pss then. */
			if(s) {
				pss_clear(s);
			}
			break;
		default:
			break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
        {"http", http_cb, sizeof(struct pss), 0, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* "ADDR:PORT", "[IPv6]:PORT" or ":PORT" into addr (empty: every
 * interface) and port. 0 or -1 with err. */
static int parse_listen(
        const char *s, char *addr, size_t addrlen, int *port, char *err, size_t errlen)
{
	const char *colon;
	size_t alen;
	long n;

	if(s[0] == '[') {
		const char *close = strchr(s, ']');
		if(!close || close[1] != ':') {
			snprintf(err, errlen, "--listen: expected [IPv6]:PORT, got \"%.80s\"", s);
			return -1;
		}
		alen = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if(!colon) {
			snprintf(err, errlen, "--listen: expected ADDR:PORT, got \"%.80s\"", s);
			return -1;
		}
		alen = (size_t)(colon - s);
	}
	if(alen >= addrlen) {
		snprintf(err, errlen, "--listen: address too long");
		return -1;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if(jw_parse_long(colon + 1, 1, 65535, &n, "--listen port", err, errlen)) {
		return -1;
	}
	*port = (int)n;
	return 0;
}

/* Returns -1 to go on, else the exit status (after --help or a bad
 * option). */
static int parse_options(int argc, char **argv, struct exporter *x, const char **listen)
{
	struct jw_args a;
	int id;
	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next("metrics", &a, opts, &x->conn, 0)) != JW_ARGS_END) {
		if(id == JW_ARGS_ERROR) {
			return JW_EXIT_USAGE;
		}
		if(id == O_LISTEN) {
			*listen = a.value;
		}
	}
	if(x->conn.help) {
		fputs(help, stdout);
		fputs(jw_common_help, stdout);
		return 0;
	}
	if(!x->conn.client_id[0]) {
		char host[64] = "host";
		gethostname(host, sizeof(host) - 1);
		snprintf(x->conn.client_id, sizeof(x->conn.client_id), "jobwire-metrics-%.60s-%ld", host,
		        (long)getpid());
	}
	return -1;
}

/* The HTTP server on addr (all addresses when "") and port; NULL when it
 * cannot listen. */
static struct lws_context *listen_http(struct exporter *x, const char *addr, int port)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	lws_set_log_level(LLL_ERR, NULL);
	info.port = port;
	info.iface = addr[0] ? addr : NULL;
	info.protocols = protocols;
	info.user = x;
	info.gid = -1;
	info.uid = -1;
	return lws_create_context(&info);
}

/* Starts the collector thread with SIGINT and SIGTERM blocked, so that
 * signals go to this thread, whose poll() they interrupt. 0 or -1. */
static int start_collector(struct exporter *x, pthread_t *thread)
{
	sigset_t block, old;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = pthread_create(thread, NULL, collect, x) ? -1 : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int jw_cmd_metrics(int argc, char **argv)
{
	const char *cmd = "metrics";
	const char *listen = "127.0.0.1:9883";
	char err[600], addr[128];
	int port = 0, rc;
	struct exporter x;
	pthread_t thread;
	struct lws_context *ctx = NULL;

	memset(&x, 0, sizeof(x));
	if(jw_conn_init(&x.conn, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	/* Notice a broker that is down soon enough to answer scrapes. */
	x.conn.connect_timeout = 5;
	if((rc = parse_options(argc, argv, &x, &listen)) >= 0) {
		return rc;
	}
	if(parse_listen(listen, addr, sizeof(addr), &port, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	if(!(ctx = listen_http(&x, addr, port))) {
		jw_errorf(cmd, "cannot listen on %s (address in use, or not an address of this host?)",
		        listen);
		return JW_EXIT_CONNECT;
	}
	pthread_mutex_init(&x.lock, NULL);
	x.clients = -1;
	if(start_collector(&x, &thread)) {
		jw_errorf(cmd, "cannot start the collector thread");
		rc = JW_EXIT_SOFTWARE;
		goto out;
	}
	fprintf(stderr, "jobwire metrics: serving http://%s%s%s:%d/metrics\n",
	        strchr(addr, ':') ? "[" : "", addr[0] ? addr : "0.0.0.0", strchr(addr, ':') ? "]" : "",
	        port);
	while(!atomic_load(&signalled)) {
		if(lws_service(ctx, 0) < 0) {
			break;
		}
	}
	atomic_store(&x.stop, 1);
	pthread_join(thread, NULL);
	rc = JW_EXIT_OK;
out:
	lws_context_destroy(ctx);
	set_state(&x, 0, NULL, -1);
	pthread_mutex_destroy(&x.lock);
	return rc;
}
