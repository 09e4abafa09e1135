/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The MQTT side of the jobwire command: connection options and their
 * environment defaults, and a libmosquitto client whose network thread
 * queues incoming messages and PUBACK verdicts for the command's thread.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "event.h"
#include "schemaset.h"
#include "topic.h"
#include "util/buf.h"
#include "util/clock.h"

const char jw_common_help[] =
        "Connection options (defaults from the environment in brackets):\n"
        "  -h, --host HOST        broker host [JOBWIRE_HOST, else 127.0.0.1]\n"
        "  -p, --port PORT        broker port [JOBWIRE_PORT, else 1883, 8883 with TLS]\n"
        "      --url URL          mqtt://[user[:pass]@]host[:port] or mqtts://... [JOBWIRE_URL]\n"
        "  -u, --username NAME    [JOBWIRE_USERNAME]\n"
        "  -P, --password PASS    [JOBWIRE_PASSWORD]\n"
        "      --token JWT        a jobwire JWT as the password [JOBWIRE_TOKEN]\n"
        "      --tls              use TLS (implied by --cafile, --capath, mqtts://)\n"
        "      --cafile FILE      CA certificates [JOBWIRE_CAFILE]; --capath DIR\n"
        "      --cert FILE --key FILE  client certificate and key\n"
        "      --insecure         do not check the server's host name\n"
        "  -i, --client-id ID     [default jobwire-CMD-HOST-PID]\n"
        "      --keepalive SECS   [30]\n"
        "      --connect-timeout T  give up connecting after T [10s]\n"
        "      --prefix P         topic prefix [JOBWIRE_PREFIX, else jobs]\n"
        "      --schemas DIR      event schemas [JOBWIRE_SCHEMAS, else the installed ones]\n"
        "      --help             this text\n";

void jw_errorf(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "jobwire %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int jw_cli_next(const char *cmd, struct jw_args *a, const struct jw_opt *opts, struct jw_conn *conn,
        int flags)
{
	char err[600];
	for(;;) {
		int id = jw_args_next(a, opts);
		switch(id) {
			case JW_ARGS_END:
				return id;
			case JW_ARGS_ERROR:
				jw_errorf(cmd, "%s (see --help)", a->err);
				return JW_ARGS_ERROR;
			case JW_ARGS_DASHDASH:
			case JW_ARGS_POSITIONAL:
				if(flags & JW_CLI_POSITIONAL) {
					return id;
				}
				jw_errorf(cmd, "unexpected argument \"%.60s\" (see --help)",
				        a->value ? a->value : "--");
				return JW_ARGS_ERROR;
			default:
				break;
		}
		int r = conn ? jw_conn_option(conn, id, a->value, err, sizeof(err)) : 0;
		if(r < 0) {
			jw_errorf(cmd, "%s", err);
			return JW_ARGS_ERROR;
		}
		if(r == 0) {
			return id;
		}
	}
}

int jw_cli_check_ids(const char *cmd, const char *session, const char *job)
{
	if((session && !jw_topic_id_valid(session)) || (job && !jw_topic_id_valid(job))) {
		jw_errorf(cmd, "--session and --job must be 1-128 characters of A-Z a-z 0-9 . _ -");
		return -1;
	}
	return 0;
}

static int set_url(struct jw_conn *c, const char *url, char *err, size_t errlen)
{
	struct jw_url u;
	if(jw_url_parse(url, &u, err, errlen)) {
		return -1;
	}
	snprintf(c->host, sizeof(c->host), "%s", u.host);
	c->tls = u.tls;
	c->port = u.port ? u.port : (u.tls ? 8883 : 1883);
	if(u.username[0]) {
		snprintf(c->username, sizeof(c->username), "%s", u.username);
		c->has_username = 1;
	}
	if(u.password[0]) {
		snprintf(c->password, sizeof(c->password), "%s", u.password);
		c->has_password = 1;
	}
	return 0;
}

int jw_conn_init(struct jw_conn *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "127.0.0.1");
	c->keepalive = 30;
	c->connect_timeout = 10;
	snprintf(c->prefix, sizeof(c->prefix), "jobs");
	const char *e;
	if((e = getenv("JOBWIRE_URL")) && *e && set_url(c, e, err, errlen)) {
		return -1;
	}
	if((e = getenv("JOBWIRE_HOST")) && *e && jw_conn_option(c, JW_OPT_HOST, e, err, errlen) < 0) {
		return -1;
	}
	if((e = getenv("JOBWIRE_PORT")) && *e && jw_conn_option(c, JW_OPT_PORT, e, err, errlen) < 0) {
		return -1;
	}
	if((e = getenv("JOBWIRE_USERNAME")) && *e) {
		jw_conn_option(c, JW_OPT_USERNAME, e, err, errlen);
	}
	if((e = getenv("JOBWIRE_PASSWORD")) && *e) {
		jw_conn_option(c, JW_OPT_PASSWORD, e, err, errlen);
	}
	if((e = getenv("JOBWIRE_TOKEN")) && *e) {
		jw_conn_option(c, JW_OPT_TOKEN, e, err, errlen);
	}
	if((e = getenv("JOBWIRE_CAFILE")) && *e) {
		jw_conn_option(c, JW_OPT_CAFILE, e, err, errlen);
	}
	if((e = getenv("JOBWIRE_PREFIX")) && *e &&
	        jw_conn_option(c, JW_OPT_PREFIX, e, err, errlen) < 0) {
		return -1;
	}
	return 0;
}

/* --password, or --token (is_token), which the plugin reads from the
 * password with any user name. 1 or -1 with err. */
static int set_password(
        struct jw_conn *c, const char *value, int is_token, char *err, size_t errlen)
{
	if(strlen(value) >= sizeof(c->password)) {
		snprintf(err, errlen, "--%s: longer than %zu bytes", is_token ? "token" : "password",
		        sizeof(c->password) - 1);
		return -1;
	}
	snprintf(c->password, sizeof(c->password), "%s", value);
	c->has_password = 1;
	if(is_token && !c->has_username) {
		snprintf(c->username, sizeof(c->username), "jobwire");
		c->has_username = 1;
	}
	return 1;
}

int jw_conn_option(struct jw_conn *c, int id, const char *value, char *err, size_t errlen)
{
	long n;
	double d;
	switch(id) {
		case JW_OPT_HOST:
			if(!*value || strlen(value) >= sizeof(c->host)) {
				snprintf(err, errlen, "--host: empty or too long");
				return -1;
			}
			snprintf(c->host, sizeof(c->host), "%s", value);
			return 1;
		case JW_OPT_PORT:
			if(jw_parse_long(value, 1, 65535, &n, "--port", err, errlen)) {
				return -1;
			}
			c->port = (int)n;
			return 1;
		case JW_OPT_URL:
			return set_url(c, value, err, errlen) ? -1 : 1;
		case JW_OPT_USERNAME:
			snprintf(c->username, sizeof(c->username), "%s", value);
			c->has_username = 1;
			return 1;
		case JW_OPT_PASSWORD:
			return set_password(c, value, 0, err, errlen);
		case JW_OPT_TOKEN:
			return set_password(c, value, 1, err, errlen);
		case JW_OPT_CAFILE:
			c->cafile = value;
			c->tls = 1;
			return 1;
		case JW_OPT_CAPATH:
			c->capath = value;
			c->tls = 1;
			return 1;
		case JW_OPT_CERT:
			c->cert = value;
			return 1;
		case JW_OPT_KEY:
			c->key = value;
			return 1;
		case JW_OPT_TLS:
			c->tls = 1;
			return 1;
		case JW_OPT_INSECURE:
			c->insecure = 1;
			return 1;
		case JW_OPT_CLIENT_ID:
			if(!*value || strlen(value) >= sizeof(c->client_id)) {
				snprintf(err, errlen, "--client-id: empty or longer than %zu bytes",
				        sizeof(c->client_id) - 1);
				return -1;
			}
			snprintf(c->client_id, sizeof(c->client_id), "%s", value);
			return 1;
		case JW_OPT_KEEPALIVE:
			if(jw_parse_long(value, 5, 65535, &n, "--keepalive", err, errlen)) {
				return -1;
			}
			c->keepalive = (int)n;
			return 1;
		case JW_OPT_PREFIX:
			if(!*value || strlen(value) >= sizeof(c->prefix) || strpbrk(value, "/+#")) {
				snprintf(err, errlen,
				        "--prefix: must be one topic level without / + # (got \"%.60s\")", value);
				return -1;
			}
			snprintf(c->prefix, sizeof(c->prefix), "%s", value);
			return 1;
		case JW_OPT_CONNECT_TIMEOUT:
			if(jw_parse_duration(value, &d, err, errlen)) {
				return -1;
			}
			c->connect_timeout = d;
			return 1;
		case JW_OPT_HELP:
			c->help = 1;
			return 1;
		case JW_OPT_SCHEMAS:
			c->schemas = value;
			return 1;
		default:
			return 0;
	}
}

double jw_now(void)
{
	return (double)jw_clock_ns(CLOCK_MONOTONIC) / 1e9;
}

/* An absolute CLOCK_REALTIME time for pthread_cond_timedwait. */
static void deadline_ts(struct timespec *ts, double timeout_s)
{
	double t = (double)jw_clock_ns(CLOCK_REALTIME) / 1e9 + timeout_s;
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
}

/* ---- client ------------------------------------------------------------ */

#define JW_MAX_SUBS 8
#define JW_QUEUE_MAX 10000

struct msg_node {
	struct jw_msg m;
	struct msg_node *next;
};

struct ack {
	int mid;
	int reason;
};

struct jw_client {
	struct mosquitto *mosq;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int connected;
	int connack; /* -1 none yet, else CONNACK reason */
	char subs[JW_MAX_SUBS][512];
	int nsubs;
	int suback_mid; /* last SUBACK mid received */
	int suback_qos; /* its first granted QoS; >= 0x80 is a refusal */
	struct msg_node *head, *tail;
	size_t queued;
	unsigned long dropped;
	struct ack acks[64];
	size_t nacks;
	int pipefd[2];
	char id[128];
};

static void on_connect(
        struct mosquitto *mosq, void *ud, int rc, int flags, const mosquitto_property *props)
{
	(void)flags;
	(void)props;
	struct jw_client *cl = ud;
	pthread_mutex_lock(&cl->lock);
	cl->connack = rc;
	cl->connected = rc == 0;
	if(rc == 0) {
		/* Clean start: subscriptions do not survive a reconnect. */
		for(int i = 0; i < cl->nsubs; i++) {
			mosquitto_subscribe_v5(mosq, NULL, cl->subs[i], 1, 0, NULL);
		}
	}
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
}

static void on_disconnect(struct mosquitto *mosq, void *ud, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)rc;
	(void)props;
	struct jw_client *cl = ud;
	pthread_mutex_lock(&cl->lock);
	cl->connected = 0;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
}

static void on_subscribe(struct mosquitto *mosq, void *ud, int mid, int n, const int *granted,
        const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct jw_client *cl = ud;
	pthread_mutex_lock(&cl->lock);
	cl->suback_mid = mid;
	cl->suback_qos = n > 0 ? granted[0] : 0x80;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
}

static void on_publish(
        struct mosquitto *mosq, void *ud, int mid, int reason, const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct jw_client *cl = ud;
	pthread_mutex_lock(&cl->lock);
	if(cl->nacks == sizeof(cl->acks) / sizeof(cl->acks[0])) {
		memmove(cl->acks, cl->acks + 1, sizeof(cl->acks) - sizeof(cl->acks[0]));
		cl->nacks--;
	}
	cl->acks[cl->nacks].mid = mid;
	cl->acks[cl->nacks].reason = reason;
	cl->nacks++;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
}

static void on_message(struct mosquitto *mosq, void *ud, const struct mosquitto_message *msg,
        const mosquitto_property *props)
{
	(void)mosq;
	struct jw_client *cl = ud;
	struct msg_node *n = calloc(1, sizeof(*n));
	if(!n) {
		return;
	}
	n->m.topic = strdup(msg->topic);
	n->m.payload = malloc((size_t)msg->payloadlen + 1);
	if(!n->m.topic || !n->m.payload) {
		jw_msg_free(&n->m);
		return;
	}
	memcpy(n->m.payload, msg->payload, (size_t)msg->payloadlen);
	n->m.payload[msg->payloadlen] = '\0';
	n->m.len = (size_t)msg->payloadlen;
	n->m.retain = msg->retain;
	void *corr = NULL;
	uint16_t corrlen = 0;
	if(mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr, &corrlen, false)) {
		n->m.corr = malloc((size_t)corrlen + 1);
		if(n->m.corr) {
			memcpy(n->m.corr, corr, corrlen);
			n->m.corr[corrlen] = '\0';
			n->m.corrlen = corrlen;
		}
		free(corr);
	}
	pthread_mutex_lock(&cl->lock);
	if(cl->queued >= JW_QUEUE_MAX) {
		/* A reader that stopped reading must not eat all memory. */
		cl->dropped++;
		pthread_mutex_unlock(&cl->lock);
		jw_msg_free(&n->m);
		return;
	}
	if(cl->tail) {
		cl->tail->next = n;
	} else {
		cl->head = n;
	}
	cl->tail = n;
	int was_empty = cl->queued++ == 0;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
	if(was_empty) {
		ssize_t w = write(cl->pipefd[1], "m", 1);
		(void)w;
	}
}

void jw_msg_free(struct jw_msg *m)
{
	if(!m) {
		return;
	}
	free(m->topic);
	free(m->payload);
	free(m->corr);
	/* Nodes embed the message first: freeing the node frees m. */
	free((struct msg_node *)(void *)m);
}

/* The client with its lock and wake-up pipe, no MQTT yet. NULL with err. */
static struct jw_client *client_new(char *err, size_t errlen)
{
	struct jw_client *cl = calloc(1, sizeof(*cl));
	if(!cl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&cl->lock, NULL);
	pthread_cond_init(&cl->cond, NULL);
	cl->connack = -1;
	cl->pipefd[0] = cl->pipefd[1] = -1;
	if(pipe(cl->pipefd)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		jw_client_close(cl);
		return NULL;
	}
	for(int i = 0; i < 2; i++) {
		fcntl(cl->pipefd[i], F_SETFL, O_NONBLOCK);
	}
	for(int i = 0; i < 2; i++) {
		fcntl(cl->pipefd[i], F_SETFD, FD_CLOEXEC);
	}
	return cl;
}

/* --client-id, else jobwire-HOST-PID. */
static void choose_id(struct jw_client *cl, const struct jw_conn *c)
{
	if(c->client_id[0]) {
		snprintf(cl->id, sizeof(cl->id), "%s", c->client_id);
	} else {
		char host[64] = "host";
		gethostname(host, sizeof(host) - 1);
		host[strcspn(host, "./+# ")] = '\0';
		snprintf(cl->id, sizeof(cl->id), "jobwire-%s-%ld", host, (long)getpid());
	}
}

static int setup_tls(struct jw_client *cl, const struct jw_conn *c, char *err, size_t errlen)
{
	int rc = mosquitto_tls_set(cl->mosq, c->cafile, c->capath, c->cert, c->key, NULL);
	if(rc == MOSQ_ERR_SUCCESS && !c->cafile && !c->capath) {
		rc = mosquitto_int_option(cl->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
	}
	if(rc) {
		snprintf(
		        err, errlen, "TLS setup: %s (check --cafile/--cert/--key)", mosquitto_strerror(rc));
		return -1;
	}
	if(c->insecure) {
		mosquitto_tls_insecure_set(cl->mosq, true);
	}
	return 0;
}

/* The MQTT 5 client: callbacks, credentials, will and TLS. 0 or -1 with
 * err. */
static int setup_mosq(struct jw_client *cl, const struct jw_conn *c, const struct jw_will *will,
        char *err, size_t errlen)
{
	cl->mosq = mosquitto_new(cl->id, true, cl);
	if(!cl->mosq) {
		snprintf(err, errlen, "cannot create the MQTT client: %s", strerror(errno));
		return -1;
	}
	mosquitto_int_option(cl->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_connect_v5_callback_set(cl->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(cl->mosq, on_disconnect);
	mosquitto_subscribe_v5_callback_set(cl->mosq, on_subscribe);
	mosquitto_publish_v5_callback_set(cl->mosq, on_publish);
	mosquitto_message_v5_callback_set(cl->mosq, on_message);
	mosquitto_reconnect_delay_set(cl->mosq, 1, 30, true);
	if(c->has_username || c->has_password) {
		mosquitto_username_pw_set(
		        cl->mosq, c->has_username ? c->username : "", c->has_password ? c->password : NULL);
	}
	if(will) {
		int rc = mosquitto_will_set_v5(cl->mosq, will->topic, (int)strlen(will->payload),
		        will->payload, will->qos, will->retain, NULL);
		if(rc) {
			snprintf(err, errlen, "will: %s", mosquitto_strerror(rc));
			return -1;
		}
	}
	return c->tls ? setup_tls(cl, c, err, errlen) : 0;
}

static const char tls_hint[] =
        " (the server's certificate is not signed by a CA in --cafile/--capath,"
        " or does not name the host; --insecure skips the name check)";

/* Why the broker did not answer: lrc is mosquitto_loop's last return. */
static void no_connack_error(const struct jw_conn *c, int port, int lrc, char *err, size_t errlen)
{
	if(lrc == MOSQ_ERR_TLS) {
		snprintf(err, errlen, "cannot connect to %s:%d: %s%s", c->host, port,
		        mosquitto_strerror(lrc), tls_hint);
	} else if(lrc != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen,
		        "cannot connect to %s:%d: the connection ended before the broker answered: %s (is "
		        "it an MQTT broker?%s)",
		        c->host, port, lrc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(lrc),
		        c->tls ? "" : " TLS needs --tls");
	} else {
		snprintf(err, errlen,
		        "cannot connect to %s:%d: no answer within %gs (is it an MQTT broker?%s)", c->host,
		        port, c->connect_timeout, c->tls ? "" : " TLS needs --tls");
	}
}

/* Connects and waits for CONNACK up to the connect timeout. 0 or -1 with
 * err. */
static int first_connect(struct jw_client *cl, const struct jw_conn *c, char *err, size_t errlen)
{
	int port = c->port ? c->port : (c->tls ? 8883 : 1883);
	errno = 0;
	int rc = mosquitto_connect_bind_v5(cl->mosq, c->host, port, c->keepalive, NULL, NULL);
	if(rc) {
		snprintf(err, errlen, "cannot connect to %s:%d: %s%s", c->host, port,
		        rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc),
		        rc == MOSQ_ERR_TLS ? tls_hint : "");
		return -1;
	}
	/* The first connection is driven here rather than by the network
	 * thread: a TLS handshake that fails ends libmosquitto's thread
	 * without any callback, so only mosquitto_loop's own return code
	 * says why. The thread takes over once the broker has answered. */
	double deadline = jw_now() + c->connect_timeout;
	int lrc = MOSQ_ERR_SUCCESS;
	int connack = -1;
	while(jw_now() < deadline) {
		lrc = mosquitto_loop(cl->mosq, 50, 1);
		pthread_mutex_lock(&cl->lock);
		connack = cl->connack;
		pthread_mutex_unlock(&cl->lock);
		if(connack >= 0 || lrc != MOSQ_ERR_SUCCESS) {
			break; /* answered, or the handshake or connection failed */
		}
	}
	if(connack > 0) {
		snprintf(err, errlen, "the broker at %s:%d refused the connection: %s", c->host, port,
		        mosquitto_reason_string(connack));
		return -1;
	}
	if(connack < 0) {
		no_connack_error(c, port, lrc, err, errlen);
		return -1;
	}
	return 0;
}

int jw_client_open(const struct jw_conn *c, const struct jw_will *will, struct jw_client **out,
        char *err, size_t errlen)
{
	*out = NULL;
	mosquitto_lib_init();
	struct jw_client *cl = client_new(err, errlen);
	if(!cl) {
		return -1;
	}
	choose_id(cl, c);
	if(setup_mosq(cl, c, will, err, errlen) || first_connect(cl, c, err, errlen)) {
		goto fail;
	}
	int rc = mosquitto_loop_start(cl->mosq);
	if(rc) {
		snprintf(err, errlen, "cannot start the network thread: %s", mosquitto_strerror(rc));
		goto fail;
	}
	*out = cl;
	return 0;
fail:
	jw_client_close(cl);
	return -1;
}

int jw_client_subscribe(struct jw_client *cl, const char *topic, char *err, size_t errlen)
{
	pthread_mutex_lock(&cl->lock);
	if(cl->nsubs == JW_MAX_SUBS || strlen(topic) >= sizeof(cl->subs[0])) {
		pthread_mutex_unlock(&cl->lock);
		snprintf(err, errlen, "too many subscriptions or topic too long");
		return -1;
	}
	snprintf(cl->subs[cl->nsubs++], sizeof(cl->subs[0]), "%s", topic);
	pthread_mutex_unlock(&cl->lock);
	int mid = 0;
	int rc = mosquitto_subscribe_v5(cl->mosq, &mid, topic, 1, 0, NULL);
	if(rc) {
		snprintf(err, errlen, "subscribe %s: %s", topic, mosquitto_strerror(rc));
		return -1;
	}
	struct timespec ts;
	deadline_ts(&ts, 10);
	pthread_mutex_lock(&cl->lock);
	while(cl->suback_mid != mid) {
		if(pthread_cond_timedwait(&cl->cond, &cl->lock, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&cl->lock);
			snprintf(err, errlen, "subscribe %s: no SUBACK within 10 s", topic);
			return -1;
		}
	}
	int granted = cl->suback_qos;
	pthread_mutex_unlock(&cl->lock);
	if(granted >= 0x80) {
		snprintf(err, errlen, "the broker refused the subscription to %s (reason 0x%02x: %s)",
		        topic, granted, mosquitto_reason_string(granted));
		return -1;
	}
	return 0;
}

int jw_client_publish(struct jw_client *cl, const char *topic, const void *payload, size_t len,
        int qos, int retain, const char *response_topic, const void *corr, size_t corrlen, int *mid,
        char *err, size_t errlen)
{
	mosquitto_property *props = NULL;
	if(response_topic) {
		mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, response_topic);
	}
	if(corr) {
		mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, (uint16_t)corrlen);
	}
	int m = 0;
	int rc = mosquitto_publish_v5(cl->mosq, &m, topic, (int)len, payload, qos, retain, props);
	mosquitto_property_free_all(&props);
	if(mid) {
		*mid = m;
	}
	if(rc) {
		snprintf(err, errlen, "publish %s: %s", topic, mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

int jw_client_wait_ack(struct jw_client *cl, int mid, double timeout_s, int *reason)
{
	struct timespec ts;
	deadline_ts(&ts, timeout_s);
	pthread_mutex_lock(&cl->lock);
	for(;;) {
		for(size_t i = 0; i < cl->nacks; i++) {
			if(cl->acks[i].mid == mid) {
				*reason = cl->acks[i].reason;
				memmove(cl->acks + i, cl->acks + i + 1, (cl->nacks - i - 1) * sizeof(cl->acks[0]));
				cl->nacks--;
				pthread_mutex_unlock(&cl->lock);
				return 0;
			}
		}
		if(pthread_cond_timedwait(&cl->cond, &cl->lock, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&cl->lock);
			return -1;
		}
	}
}

int jw_client_next(struct jw_client *cl, double timeout_s, struct jw_msg **m)
{
	struct timespec ts;
	if(timeout_s > 0) {
		deadline_ts(&ts, timeout_s);
	}
	char buf[64];
	while(read(cl->pipefd[0], buf, sizeof(buf)) > 0) {
	}
	pthread_mutex_lock(&cl->lock);
	while(!cl->head) {
		if(timeout_s == 0) {
			break;
		}
		if(timeout_s < 0) {
			pthread_cond_wait(&cl->cond, &cl->lock);
		} else if(pthread_cond_timedwait(&cl->cond, &cl->lock, &ts) == ETIMEDOUT) {
			break;
		}
	}
	struct msg_node *n = cl->head;
	if(n) {
		cl->head = n->next;
		if(!cl->head) {
			cl->tail = NULL;
		}
		cl->queued--;
	}
	pthread_mutex_unlock(&cl->lock);
	*m = n ? &n->m : NULL;
	return n != NULL;
}

int jw_client_fd(const struct jw_client *cl)
{
	return cl->pipefd[0];
}

int jw_client_connected(struct jw_client *cl)
{
	pthread_mutex_lock(&cl->lock);
	int c = cl->connected;
	pthread_mutex_unlock(&cl->lock);
	return c;
}

const char *jw_client_id(const struct jw_client *cl)
{
	return cl->id;
}

void jw_client_close(struct jw_client *cl)
{
	if(!cl) {
		return;
	}
	if(cl->mosq) {
		mosquitto_disconnect_v5(cl->mosq, 0, NULL);
		mosquitto_loop_stop(cl->mosq, false);
		mosquitto_destroy(cl->mosq);
	}
	struct msg_node *n = cl->head;
	while(n) {
		struct msg_node *next = n->next;
		jw_msg_free(&n->m);
		n = next;
	}
	if(cl->pipefd[0] >= 0) {
		close(cl->pipefd[0]);
		close(cl->pipefd[1]);
	}
	pthread_mutex_destroy(&cl->lock);
	pthread_cond_destroy(&cl->cond);
	free(cl);
	mosquitto_lib_cleanup();
}

/* ---- misc ------------------------------------------------------------- */

void jw_cli_print_where(FILE *f, const struct jw_verdict *v)
{
	if(v->field[0] || v->keyword[0]) {
		fprintf(f, " (%s%s%s%s%s)", v->field[0] ? "field " : "", v->field,
		        v->field[0] && v->keyword[0] ? ", " : "", v->keyword[0] ? "keyword " : "",
		        v->keyword);
	}
}

/* BIN/../share/jobwire/schemas beside this executable when it holds the
 * schemas, else NULL. A package installs under another prefix than the
 * build was configured with, so the configured path alone is not enough. */
static const char *schemas_beside_exe(void)
{
	static char path[4096];
	char exe[4096], probe[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if(n <= 0) {
		return NULL;
	}
	exe[n] = '\0';
	if(!(slash = strrchr(exe, '/'))) {
		return NULL;
	}
	*slash = '\0';
	int m = snprintf(path, sizeof(path), "%s/%s", exe, JW_CLI_SCHEMAS_FROM_BINDIR);
	if(m < 0 || (size_t)m >= sizeof(path)) {
		return NULL;
	}
	snprintf(probe, sizeof(probe), "%s/progress.json", path);
	return access(probe, R_OK) == 0 ? path : NULL;
}

const char *jw_cli_schemas_dir(const char *dir)
{
	const char *d = dir;
	if(!d) {
		d = getenv("JOBWIRE_SCHEMAS");
	}
	if(!d || !*d) {
		d = schemas_beside_exe();
	}
	if(!d) {
		d = access(JW_CLI_INSTALLED_SCHEMAS "/progress.json", R_OK) == 0 ? JW_CLI_INSTALLED_SCHEMAS
		                                                                 : JW_CLI_SOURCE_SCHEMAS;
	}
	return d;
}

int jw_cli_load_schemas(const char *dir, struct jw_schemaset **out, char *err, size_t errlen)
{
	const char *d = jw_cli_schemas_dir(dir);
	char e[400];
	if(jw_schemaset_load_dir(d, out, e, sizeof(e))) {
		snprintf(err, errlen,
		        "cannot load the schemas in %s: %s (set --schemas or JOBWIRE_SCHEMAS)", d, e);
		return -1;
	}
	return 0;
}

int jw_read_all(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct jw_buf b;
	int rc = -1;

	if(!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	jw_buf_init(&b, max);
	for(;;) {
		/* 4 KiB at a time, and once max bytes are in, one more byte to
		 * tell a longer file from one of exactly max bytes. */
		size_t room = max - b.len < 4096 ? max - b.len : 4096, r;
		char extra;

		if(room == 0) {
			r = fread(&extra, 1, 1, f);
			if(r > 0) {
				snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
				goto out;
			}
		} else {
			if(jw_buf_reserve(&b, room) != 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			r = fread(jw_buf_tail(&b), 1, room, f);
			jw_buf_commit(&b, r);
		}
		if(r == 0) {
			if(ferror(f)) {
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
				goto out;
			}
			break;
		}
	}
	*buf = jw_buf_take(&b, len);
	if(!*buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	jw_buf_cleanup(&b);
	if(f != stdin) {
		fclose(f);
	}
	return rc;
}
