/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * MQTT load generator: one publisher and one subscriber connection (MQTT 5,
 * QoS 1 both ways, or QoS 0 with --qos 0) in one thread, a stream of ~300-byte progress events with
 * the publisher's in-flight window kept full, and publish-to-delivery
 * latency per message. Prints one key=value line.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>

#include "bench_conn.h"
#include "payload.h"

struct options {
	const char *host;
	int port;
	uint64_t count;     /* measured messages */
	uint64_t warmup;    /* messages sent first and not measured */
	uint64_t jobs;      /* topics jobs/<session>/job-<k>/progress, k < jobs */
	const char *prefix; /* first topic level */
	const char *session;
	const char *label;  /* echoed in the output line */
	uint64_t window;    /* publisher in-flight window (MQTT 5 send maximum) */
	uint64_t ahead;     /* max published-but-not-delivered, 0 = no limit */
	uint64_t rate;      /* messages per second, 0 = as fast as the window allows */
	uint64_t size;      /* payload bytes */
	uint64_t timeout_s; /* give up after this long without progress */
	uint64_t qos;       /* 0 or 1, both ways */
	bool nodelay;
};

/* The whole run's state: the arg of the subscriber connection. */
struct bench {
	struct options o;
	struct bench_conn conn; /* clients[0] publishes, clients[1] subscribes */
	uint64_t total;         /* warmup + count */
	uint64_t per_job;
	uint64_t sent;
	uint64_t received; /* distinct benchmark messages delivered */
	uint64_t dups;
	uint64_t foreign; /* deliveries that are not benchmark messages */
	uint64_t with_ts; /* deliveries whose first member is "ts" */
	unsigned char *seen;
	uint64_t *lat_ns; /* latencies of measured messages, in arrival order */
	uint64_t nlat;
	int64_t t_first; /* publish time of the first measured message */
	int64_t t_last;  /* delivery time of the last measured message */
	int64_t t_start; /* when publishing began, for --rate */
	int last_len;    /* size of the last payload sent */
	char **topics;
	char filter[512];
	char payload[BENCH_PAYLOAD_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: mqtt_bench [options]\n"
	        "  --host H        broker address (default 127.0.0.1)\n"
	        "  --port P        broker port (default 1883)\n"
	        "  --count N       measured messages (default 200000)\n"
	        "  --warmup N      unmeasured messages sent first (default 10000)\n"
	        "  --jobs N        jobs the stream is spread over (default 100)\n"
	        "  --prefix P      first topic level (default jobs)\n"
	        "  --session S     session level (default bench)\n"
	        "  --window N      publisher in-flight window (default 20)\n"
	        "  --ahead N       most messages published but not yet delivered, 0 = no\n"
	        "                  limit (default 500; keeps the broker queue below\n"
	        "                  max_queued_messages 1000, where QoS 1 messages are dropped)\n"
	        "  --rate N        publish at most N messages per second (default 0: as fast\n"
	        "                  as the window allows)\n"
	        "  --size N        payload bytes (default %u)\n"
	        "  --timeout S     give up after S seconds without progress (default 10)\n"
	        "  --qos N         0 or 1: of the messages and the subscription (default 1)\n"
	        "  --nodelay       set TCP_NODELAY on both connections\n"
	        "  --label L       first field of the output line (default run)\n",
	        BENCH_PAYLOAD_SIZE);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	uint64_t port = 1883;

	for(int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;

		if(!strcmp(a, "--nodelay")) {
			o->nodelay = true;
			continue;
		}
		if(!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		if(!val) {
			fprintf(stderr, "mqtt_bench: %s needs a value\n", a);
			return -1;
		}
		i++;
		if(!strcmp(a, "--host"))
			o->host = val;
		else if(!strcmp(a, "--port"))
			bad = bench_parse_u64(val, &port) || port == 0 || port > 65535;
		else if(!strcmp(a, "--count"))
			bad = bench_parse_u64(val, &o->count) || o->count == 0;
		else if(!strcmp(a, "--warmup"))
			bad = bench_parse_u64(val, &o->warmup);
		else if(!strcmp(a, "--jobs"))
			bad = bench_parse_u64(val, &o->jobs) || o->jobs == 0 || o->jobs > 100000;
		else if(!strcmp(a, "--prefix"))
			o->prefix = val;
		else if(!strcmp(a, "--session"))
			o->session = val;
		else if(!strcmp(a, "--window"))
			bad = bench_parse_u64(val, &o->window) || o->window == 0 || o->window > 65535;
		else if(!strcmp(a, "--ahead"))
			bad = bench_parse_u64(val, &o->ahead);
		else if(!strcmp(a, "--rate"))
			bad = bench_parse_u64(val, &o->rate);
		else if(!strcmp(a, "--size"))
			bad = bench_parse_u64(val, &o->size) || o->size >= BENCH_PAYLOAD_MAX;
		else if(!strcmp(a, "--timeout"))
			bad = bench_parse_u64(val, &o->timeout_s) || o->timeout_s == 0;
		else if(!strcmp(a, "--qos"))
			bad = bench_parse_u64(val, &o->qos) || o->qos > 1;
		else if(!strcmp(a, "--label"))
			o->label = val;
		else
			bad = 1;
		if(bad) {
			fprintf(stderr, "mqtt_bench: bad option %s %s\n", a, val);
			return -1;
		}
	}
	o->port = (int)port;
	return 0;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
        const mosquitto_property *props)
{
	struct bench *b = ((struct bench_client *)obj)->arg;
	int64_t now = bench_now_ns(), sent;
	uint64_t seq;

	(void)mosq;
	(void)props;
	/* libmosquitto NUL-terminates every payload it hands over. */
	if(!msg->payload || bench_payload_parse(msg->payload, &sent, &seq) < 0 || seq >= b->total) {
		b->foreign++;
		return;
	}
	if(b->seen[seq]) {
		b->dups++;
		return;
	}
	b->seen[seq] = 1;
	b->received++;
	b->conn.t_progress = now;
	if(msg->payloadlen > 6 && !memcmp(msg->payload, "{\"ts\":", 6))
		b->with_ts++;
	if(seq >= b->o.warmup) {
		b->lat_ns[b->nlat++] = now > sent ? (uint64_t)(now - sent) : 0;
		b->t_last = now;
	}
}

/* Publishes message number b->sent. */
static int publish_one(struct bench *b)
{
	uint64_t seq = b->sent;
	int64_t t = bench_now_ns();
	int len, rc;

	len = bench_payload_format(
	        b->payload, sizeof(b->payload), seq, seq / b->o.jobs, b->per_job, t, (size_t)b->o.size);
	if(len < 0) {
		fprintf(stderr, "mqtt_bench: payload does not fit\n");
		b->conn.failed = true;
		return -1;
	}
	rc = mosquitto_publish_v5(b->conn.clients[0].m, NULL, b->topics[seq % b->o.jobs], len,
	        b->payload, (int)b->o.qos, false, NULL);
	if(rc) {
		bench_conn_fail(&b->conn, "publish", rc);
		return -1;
	}
	if(b->o.qos == 0)
		b->conn.acked++; /* nothing comes back: --ahead is the only bound */
	if(seq == b->o.warmup)
		b->t_first = t;
	b->last_len = len;
	b->sent++;
	return 0;
}

/* Fills the in-flight window (and the delivery lead, when limited), or
 * with --rate publishes the messages that are due by now. */
static void pump(struct bench *b)
{
	uint64_t due = b->total;

	if(b->o.rate) {
		double elapsed = (double)(bench_now_ns() - b->t_start) / 1e9;

		due = (uint64_t)(elapsed * (double)b->o.rate) + 1;
	}
	while(!b->conn.failed && b->sent < b->total && b->sent < due &&
	        b->sent - b->conn.acked < b->conn.window &&
	        (!b->o.ahead || b->sent - b->received < b->o.ahead)) {
		if(publish_one(b) < 0)
			return;
	}
}

/* Connects the publisher and the subscriber and waits for both. */
static int connect_both(struct bench *b)
{
	int n;

	n = snprintf(b->filter, sizeof(b->filter), "%s/%s/+/progress", b->o.prefix, b->o.session);
	if(n < 0 || (size_t)n >= sizeof(b->filter)) {
		fprintf(stderr, "mqtt_bench: topic too long\n");
		return -1;
	}
	if(bench_conn_init(&b->conn, "mqtt_bench", 2, b->filter, on_message) < 0)
		return -1;
	b->conn.nodelay = b->o.nodelay;
	b->conn.window = b->o.window;
	b->conn.qos = (int)b->o.qos;
	if(bench_conn_client(&b->conn, 0, b, "jwbench-pub-%ld", (long)getpid()) < 0 ||
	        bench_conn_client(&b->conn, 1, b, "jwbench-sub-%ld", (long)getpid()) < 0)
		return -1;
	return bench_conn_connect(&b->conn, b->o.host, b->o.port, 10);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted v[0..n), in milliseconds. */
static double pct_ms(const uint64_t *v, uint64_t n, double p)
{
	uint64_t rank;

	if(!n)
		return 0.0;
	rank = (uint64_t)((p / 100.0) * (double)n + 0.999999);
	if(rank < 1)
		rank = 1;
	if(rank > n)
		rank = n;
	return (double)v[rank - 1] / 1e6;
}

static int run(struct bench *b)
{
	int64_t limit = (int64_t)b->o.timeout_s * 1000000000LL;

	b->conn.t_progress = bench_now_ns();
	b->t_start = b->conn.t_progress;
	while(b->conn.acked < b->total || b->received < b->total) {
		pump(b);
		/* Paced runs wake at least every millisecond to publish on time;
		 * under load every PUBACK and delivery wakes the loop anyway. */
		if(b->conn.failed || bench_conn_loop(&b->conn, b->o.rate ? 1 : 100, true) < 0)
			return -1;
		if(bench_now_ns() - b->conn.t_progress > limit) {
			fprintf(stderr,
			        "mqtt_bench: stalled for %" PRIu64 " s: sent %" PRIu64 ", acked %" PRIu64
			        ", received %" PRIu64 " of %" PRIu64 "\n",
			        b->o.timeout_s, b->sent, b->conn.acked, b->received, b->total);
			return -1;
		}
	}
	return 0;
}

static void report(struct bench *b)
{
	uint64_t lost = b->total - b->received;
	double secs = b->t_last > b->t_first ? (double)(b->t_last - b->t_first) / 1e9 : 0.0;
	double cpu = bench_cpu_seconds();

	qsort(b->lat_ns, (size_t)b->nlat, sizeof(*b->lat_ns), cmp_u64);
	printf("label=%s messages=%" PRIu64 " seconds=%.3f msgs_per_s=%.0f p50_ms=%.3f "
	       "p99_ms=%.3f max_ms=%.3f lost=%" PRIu64 " rejected=%" PRIu64 " dups=%" PRIu64
	       " foreign=%" PRIu64 " ts_added=%" PRIu64 " window=%" PRIu64 " rate=%" PRIu64
	       " bytes=%d client_cpu_us=%.1f qos=%d\n",
	        b->o.label, b->nlat, secs, secs > 0 ? (double)b->nlat / secs : 0.0,
	        pct_ms(b->lat_ns, b->nlat, 50), pct_ms(b->lat_ns, b->nlat, 99),
	        b->nlat ? (double)b->lat_ns[b->nlat - 1] / 1e6 : 0.0, lost, b->conn.rejected, b->dups,
	        b->foreign, b->with_ts, b->conn.window, b->o.rate, b->last_len,
	        b->total ? cpu * 1e6 / (double)b->total : 0.0, (int)b->o.qos);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct bench b;
	int rc = 1, n;

	memset(&b, 0, sizeof(b));
	b.o = (struct options){.host = "127.0.0.1",
	        .port = 1883,
	        .count = 200000,
	        .warmup = 10000,
	        .jobs = 100,
	        .prefix = "jobs",
	        .session = "bench",
	        .label = "run",
	        .window = 20,
	        .ahead = 500,
	        .size = BENCH_PAYLOAD_SIZE,
	        .timeout_s = 10,
	        .qos = 1};
	if(parse_args(argc, argv, &b.o) < 0) {
		usage(stderr);
		return 2;
	}
	b.total = b.o.warmup + b.o.count;
	b.per_job = (b.total + b.o.jobs - 1) / b.o.jobs;
	b.seen = calloc((size_t)b.total, 1);
	b.lat_ns = calloc((size_t)b.o.count, sizeof(*b.lat_ns));
	b.topics = calloc((size_t)b.o.jobs, sizeof(*b.topics));
	if(!b.seen || !b.lat_ns || !b.topics)
		goto nomem;
	for(uint64_t k = 0; k < b.o.jobs; k++) {
		size_t cap = strlen(b.o.prefix) + strlen(b.o.session) + 48;

		b.topics[k] = malloc(cap);
		if(!b.topics[k])
			goto nomem;
		n = snprintf(
		        b.topics[k], cap, "%s/%s/job-%" PRIu64 "/progress", b.o.prefix, b.o.session, k);
		if(n < 0 || (size_t)n >= cap)
			goto nomem;
	}

	mosquitto_lib_init();
	if(connect_both(&b) == 0) {
		if(run(&b) == 0)
			rc = 0;
		report(&b);
	}
	if(b.received < b.total || b.conn.rejected || b.dups)
		rc = 1;
	bench_conn_cleanup(&b.conn);
	mosquitto_lib_cleanup();
	goto out;
nomem:
	fprintf(stderr, "mqtt_bench: out of memory\n");
out:
	for(uint64_t k = 0; b.topics && k < b.o.jobs; k++)
		free(b.topics[k]);
	free(b.topics);
	free(b.seen);
	free(b.lat_ns);
	return rc;
}
