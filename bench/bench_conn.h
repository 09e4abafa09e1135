/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The libmosquitto side the MQTT load generators share (mqtt_bench,
 * fanout_bench): one publisher and any number of QoS 1 subscribers, all
 * MQTT 5, connected and then driven by one poll loop in one thread.
 */
#ifndef JW_BENCH_CONN_H
#define JW_BENCH_CONN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mosquitto.h>

#include "util/clock.h"

struct bench_conn;

/* One connection; the userdata of its libmosquitto callbacks. */
struct bench_client {
	struct mosquitto *m;
	struct bench_conn *conn;
	void *arg;    /* the caller's: what its message callback works on */
	bool started; /* connect issued: from now on it must have a socket */
	bool ready;   /* publisher: CONNACK accepted; subscriber: SUBACK at the qos */
};

/* A run's connections: clients[0] publishes, clients[1..n) subscribe. */
struct bench_conn {
	/* From bench_conn_init. */
	const char *prog;   /* first word of every message on stderr */
	const char *filter; /* what every subscriber subscribes to, at qos */
	/* What a subscriber's deliveries go to; obj is its bench_client. */
	void (*on_message)(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
	        const mosquitto_property *props);
	/* Set by the caller, when wanted, before bench_conn_client. */
	bool nodelay;    /* TCP_NODELAY on every connection */
	uint64_t window; /* publisher in-flight window (MQTT 5 send maximum),
	                  * lowered to the broker's receive maximum on CONNACK */
	int qos;         /* of the subscriptions (and the publisher's messages):
	                  * 1 unless set; at 0 nothing is acknowledged, so the
	                  * publisher counts a message acked once it is sent */

	size_t n;
	struct bench_client *clients;
	struct pollfd *fds;

	/* Kept up to date by the callbacks and the loop. */
	uint64_t ready;     /* connections ready, see bench_client */
	uint64_t acked;     /* PUBACKs */
	uint64_t rejected;  /* PUBACKs with a failure reason code */
	int64_t t_progress; /* when the last PUBACK arrived (callers may move it too) */
	bool failed;        /* an error was printed: the run is over */
};

/* CLOCK_MONOTONIC in nanoseconds. */
static inline int64_t bench_now_ns(void)
{
	return jw_clock_ns(CLOCK_MONOTONIC);
}

/* This process's CPU time (user + system) so far, in seconds. */
double bench_cpu_seconds(void);

/*
 * Sets up conn for n connections (n >= 2: a publisher and at least one
 * subscriber) with its clients and poll slots allocated and zeroed, for
 * subscribers to filter with deliveries to on_message (both must outlive
 * conn). Returns 0, or -1 (message printed) when out of memory.
 * bench_conn_cleanup releases it.
 */
int bench_conn_init(struct bench_conn *conn, const char *prog, size_t n, const char *filter,
        void (*on_message)(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                const mosquitto_property *props));

/*
 * Creates connection i (0 is the publisher) with the MQTT client id
 * printf(idfmt, ...) and sets its callbacks; arg is for the caller's
 * message callback, in bench_client.arg. Returns 0, or -1 (message
 * printed).
 */
int bench_conn_client(struct bench_conn *conn, size_t i, void *arg, const char *idfmt, ...)
        __attribute__((format(printf, 4, 5)));

/*
 * Connects every client to host:port, at most 50 handshakes at a time so
 * the broker's listen backlog never overflows, and runs the loop until
 * every one is ready. Returns 0, or -1 (message printed) on an error, a
 * refusal or when not all are ready after timeout_s seconds.
 */
int bench_conn_connect(struct bench_conn *conn, const char *host, int port, int timeout_s);

/*
 * One pass over every connection: waits up to timeout_ms for any socket,
 * then lets libmosquitto read what arrived and flush what callbacks queued;
 * keep-alive too when misc is set. Returns 0, or -1 once the run failed.
 */
int bench_conn_loop(struct bench_conn *conn, int timeout_ms, bool misc);

/* Prints "prog: what: reason" for libmosquitto error rc and fails the run. */
void bench_conn_fail(struct bench_conn *conn, const char *what, int rc);

/* Disconnects and frees every client and the arrays; safe after a failed
 * init and safe to call twice. */
void bench_conn_cleanup(struct bench_conn *conn);

#endif
