/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The libmosquitto side the MQTT load generators share: creating the
 * publisher and the subscribers, their connect and subscribe callbacks,
 * connecting them all, and the one-thread poll loop that drives them.
 */
#include "bench_conn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <mqtt_protocol.h>

/* Most connects in flight at once: the broker's listen backlog must never
 * overflow, or the kernel drops handshakes and the run waits for retries. */
#define CONNECT_BURST 50u

double bench_cpu_seconds(void)
{
	struct rusage ru;

	if(getrusage(RUSAGE_SELF, &ru) < 0)
		return 0.0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void bench_conn_fail(struct bench_conn *conn, const char *what, int rc)
{
	fprintf(stderr, "%s: %s: %s\n", conn->prog, what,
	        rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	conn->failed = true;
}

/* CONNACK: the publisher learns the broker's receive maximum, a subscriber
 * subscribes. */
static void on_connect(
        struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct bench_client *c = obj;
	struct bench_conn *conn = c->conn;
	bool pub = c == conn->clients;
	uint16_t recv_max = 0;

	(void)flags;
	if(rc) {
		fprintf(stderr, "%s: %s refused: %s\n", conn->prog, pub ? "publisher" : "subscriber",
		        mosquitto_reason_string(rc));
		conn->failed = true;
		return;
	}
	if(!pub) {
		rc = mosquitto_subscribe_v5(mosq, NULL, conn->filter, conn->qos, 0, NULL);
		if(rc)
			bench_conn_fail(conn, "subscribe", rc);
		return;
	}
	/* Never have more in flight than the broker accepts: libmosquitto would
	 * queue the excess inside the client and inflate the latencies. */
	if(mosquitto_property_read_int16(props, MQTT_PROP_RECEIVE_MAXIMUM, &recv_max, false) &&
	        recv_max > 0 && recv_max < conn->window)
		conn->window = recv_max;
	c->ready = true;
	conn->ready++;
}

static void on_publish(
        struct mosquitto *mosq, void *obj, int mid, int reason, const mosquitto_property *props)
{
	struct bench_client *c = obj;
	struct bench_conn *conn = c->conn;

	(void)mosq;
	(void)mid;
	(void)props;
	if(conn->qos == 0)
		return; /* sent, not acknowledged: counted by the publisher */
	conn->acked++;
	conn->t_progress = bench_now_ns();
	if(reason >= 0x80) {
		if(!conn->rejected)
			fprintf(stderr, "%s: PUBACK reason 0x%02x: %s\n", conn->prog, (unsigned)reason,
			        mosquitto_reason_string(reason));
		conn->rejected++;
	}
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count,
        const int *granted_qos, const mosquitto_property *props)
{
	struct bench_client *c = obj;
	struct bench_conn *conn = c->conn;

	(void)mosq;
	(void)mid;
	(void)props;
	if(qos_count != 1 || granted_qos[0] != conn->qos) {
		fprintf(stderr, "%s: subscription not granted at QoS %d\n", conn->prog, conn->qos);
		conn->failed = true;
		return;
	}
	c->ready = true;
	conn->ready++;
}

int bench_conn_init(struct bench_conn *conn, const char *prog, size_t n, const char *filter,
        void (*on_message)(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                const mosquitto_property *props))
{
	memset(conn, 0, sizeof(*conn));
	conn->prog = prog;
	conn->filter = filter;
	conn->on_message = on_message;
	conn->qos = 1;
	conn->clients = calloc(n, sizeof(*conn->clients));
	conn->fds = calloc(n, sizeof(*conn->fds));
	if(!conn->clients || !conn->fds) {
		fprintf(stderr, "%s: out of memory\n", prog);
		bench_conn_cleanup(conn);
		return -1;
	}
	conn->n = n;
	return 0;
}

int bench_conn_client(struct bench_conn *conn, size_t i, void *arg, const char *idfmt, ...)
{
	struct bench_client *c = &conn->clients[i];
	char id[128];
	va_list ap;

	va_start(ap, idfmt);
	vsnprintf(id, sizeof(id), idfmt, ap);
	va_end(ap);
	c->conn = conn;
	c->arg = arg;
	c->m = mosquitto_new(id, true, c);
	if(!c->m) {
		fprintf(stderr, "%s: out of memory\n", conn->prog);
		return -1;
	}
	mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	if(conn->nodelay)
		mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(c->m, on_connect);
	if(i == 0) {
		mosquitto_int_option(c->m, MOSQ_OPT_SEND_MAXIMUM, (int)conn->window);
		mosquitto_publish_v5_callback_set(c->m, on_publish);
	} else {
		mosquitto_subscribe_v5_callback_set(c->m, on_subscribe);
		mosquitto_message_v5_callback_set(c->m, conn->on_message);
	}
	return 0;
}

int bench_conn_connect(struct bench_conn *conn, const char *host, int port, int timeout_s)
{
	int64_t deadline = bench_now_ns() + (int64_t)timeout_s * 1000000000LL;
	uint64_t started = 0;
	int rc;

	while(conn->ready < conn->n) {
		while(started < conn->n && started - conn->ready < CONNECT_BURST) {
			struct bench_client *c = &conn->clients[started];

			rc = mosquitto_connect_bind_v5(c->m, host, port, 60, NULL, NULL);
			if(rc) {
				fprintf(stderr, "%s: connect to %s:%d: %s\n", conn->prog, host, port,
				        rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
				conn->failed = true;
				return -1;
			}
			c->started = true;
			started++;
		}
		if(bench_conn_loop(conn, 100, false) < 0)
			return -1;
		if(bench_now_ns() > deadline) {
			fprintf(stderr, "%s: %" PRIu64 " of %zu connections ready after %d s\n", conn->prog,
			        conn->ready, conn->n, timeout_s);
			return -1;
		}
	}
	return 0;
}

int bench_conn_loop(struct bench_conn *conn, int timeout_ms, bool misc)
{
	struct pollfd *fds = conn->fds;
	int rc;

	for(size_t i = 0; i < conn->n; i++) {
		struct bench_client *c = &conn->clients[i];

		/* A negative descriptor is left out by poll: a client that has
		 * not connected yet. */
		fds[i].fd = c->started ? mosquitto_socket(c->m) : -1;
		fds[i].events = POLLIN;
		if(c->started && mosquitto_want_write(c->m))
			fds[i].events |= POLLOUT;
		fds[i].revents = 0;
		if(c->started && fds[i].fd < 0) {
			fprintf(stderr, "%s: connection lost\n", conn->prog);
			conn->failed = true;
			return -1;
		}
	}
	if(poll(fds, (nfds_t)conn->n, timeout_ms) < 0 && errno != EINTR) {
		fprintf(stderr, "%s: poll: %s\n", conn->prog, strerror(errno));
		conn->failed = true;
		return -1;
	}
	for(size_t i = 0; i < conn->n; i++) {
		struct mosquitto *m = conn->clients[i].m;

		if(fds[i].fd < 0)
			continue;
		if(fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			rc = mosquitto_loop_read(m, 1);
			if(rc) {
				bench_conn_fail(conn, "read", rc);
				return -1;
			}
		}
		/* Callbacks run by the read only queue packets: flush them now. */
		if(mosquitto_want_write(m)) {
			rc = mosquitto_loop_write(m, 1);
			if(rc) {
				bench_conn_fail(conn, "write", rc);
				return -1;
			}
		}
		if(misc) {
			rc = mosquitto_loop_misc(m);
			if(rc) {
				bench_conn_fail(conn, "keepalive", rc);
				return -1;
			}
		}
	}
	return conn->failed ? -1 : 0;
}

void bench_conn_cleanup(struct bench_conn *conn)
{
	for(size_t i = 0; conn->clients && i < conn->n; i++) {
		struct bench_client *c = &conn->clients[i];

		if(c->m) {
			mosquitto_disconnect_v5(c->m, 0, NULL);
			mosquitto_destroy(c->m);
			c->m = NULL;
		}
	}
	free(conn->clients);
	free(conn->fds);
	conn->clients = NULL;
	conn->fds = NULL;
	conn->n = 0;
}
