/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Fan-out benchmark: one publisher sends progress events for one job at a
 * fixed rate (MQTT 5, QoS 1) while N subscriber connections (MQTT 5, QoS 1)
 * all subscribe to one topic filter: the job's retained `state` topic (the
 * plugin coalesces the events to a few updates per second) or, as a
 * control, the raw progress topic. Every connection lives in one thread and
 * one poll loop. Reports deliveries per subscriber per second, the latency
 * from the publish of the newest event a delivery carries to its arrival
 * (a state message carries the event's "message" text, so its send time),
 * the latency from each event's publish to the first delivery that shows it
 * or a later event to a subscriber (what coalescing adds), and the broker's
 * CPU over the measured window. Prints one key=value line.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mosquitto.h>

#include "bench_conn.h"
#include "payload.h"

/* Latency histogram: 10 µs buckets up to 20 s, then one overflow bucket. */
#define HIST_US 10u
#define HIST_N 2000000u

struct options {
	const char *host;
	int port;
	uint64_t subs;     /* subscriber connections */
	const char *topic; /* "state" or "progress": what the subscribers follow */
	const char *session;
	const char *job;
	const char *label;
	uint64_t rate;     /* events per second */
	uint64_t warmup_s; /* seconds published before the measured window */
	uint64_t seconds;  /* measured window */
	uint64_t drain_s;  /* most seconds to wait for deliveries afterwards */
	uint64_t window;   /* publisher in-flight window */
	uint64_t size;     /* event payload bytes */
	long broker_pid;   /* read this process's CPU time, 0 = not */
	uint64_t jitter;   /* % of the interval each event's time may move by */
	uint64_t hold_ms;  /* the state's coalescing interval, for late_*; 0 = not */
	const char *dump;  /* file for every vis and late sample, NULL = none */
};

/* What one subscriber saw: the arg of its connection. */
struct sub {
	struct run *r;
	uint64_t count; /* deliveries in the measured window */
	uint64_t last_seq;
	int64_t last_recv; /* arrival of its last delivery, 0 = none yet */
	bool any;
};

struct run {
	struct options o;
	struct bench_conn conn; /* clients[0] publishes, clients[1 + i] is subs[i] */
	struct sub *subs;
	bool behind;    /* the publisher could not keep the rate */
	uint64_t total; /* events to publish */
	uint64_t sent;
	uint64_t first_measured, end_measured; /* seq range of the window */
	uint64_t delivered;                    /* all deliveries */
	uint64_t measured;                     /* deliveries of events sent in the window */
	uint64_t reordered;                    /* a subscriber saw an older or the same event again */
	uint64_t foreign;
	int64_t t_start, t_window, t_window_end, t_last_delivery;
	uint32_t *hist; /* delivery latency: newest event carried -> arrival */
	uint32_t *vis;  /* visibility latency: every event covered -> arrival */
	uint32_t *late; /* lateness: the earliest time the coalescing rule
	                   allowed the delivery -> arrival */
	uint64_t nvis, nlate;
	uint64_t max_ns, vis_max_ns, late_max_ns;
	int64_t *sent_ns; /* publish time of every event */
	int last_len;
	FILE *dump;
	char pub_topic[256];
	char filter[256];
	char payload[BENCH_PAYLOAD_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: fanout_bench [options]\n"
	        "  --host H        broker address (default 127.0.0.1)\n"
	        "  --port P        broker port (default 1883)\n"
	        "  --subs N        subscriber connections (default 1000)\n"
	        "  --topic T       state or progress: what the subscribers follow (default state)\n"
	        "  --session S     session level (default fanout)\n"
	        "  --job J         job level (default job-0)\n"
	        "  --rate N        progress events per second (default 1000)\n"
	        "  --warmup S      seconds published before measuring (default 2)\n"
	        "  --seconds S     measured seconds (default 10)\n"
	        "  --drain S       most seconds to wait for late deliveries (default 5)\n"
	        "  --window N      publisher in-flight window (default 20)\n"
	        "  --size N        event payload bytes (default %u)\n"
	        "  --broker-pid P  report that process's CPU use over the measured window\n"
	        "  --jitter PCT    move each event's send time later by up to PCT%% of the\n"
	        "                  interval, at random (default 0: evenly paced)\n"
	        "  --hold-ms MS    the state's coalescing interval (1000 / state_max_rate):\n"
	        "                  late_* then measure each delivery from the earliest time\n"
	        "                  the rule allowed it (default 0: not measured)\n"
	        "  --dump FILE     write every vis and late sample there (\"vis NS\", \"late NS\"),\n"
	        "                  to pool several runs' percentiles\n"
	        "  --label L       first field of the output line (default run)\n",
	        BENCH_PAYLOAD_SIZE);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	uint64_t port = 1883, pid = 0;

	for(int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;

		if(!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		if(!val) {
			fprintf(stderr, "fanout_bench: %s needs a value\n", a);
			return -1;
		}
		i++;
		if(!strcmp(a, "--host"))
			o->host = val;
		else if(!strcmp(a, "--port"))
			bad = bench_parse_u64(val, &port) || port == 0 || port > 65535;
		else if(!strcmp(a, "--subs"))
			bad = bench_parse_u64(val, &o->subs) || o->subs == 0 || o->subs > 50000;
		else if(!strcmp(a, "--topic")) {
			o->topic = val;
			bad = strcmp(val, "state") != 0 && strcmp(val, "progress") != 0;
		} else if(!strcmp(a, "--session"))
			o->session = val;
		else if(!strcmp(a, "--job"))
			o->job = val;
		else if(!strcmp(a, "--rate"))
			bad = bench_parse_u64(val, &o->rate) || o->rate == 0 || o->rate > 1000000;
		else if(!strcmp(a, "--warmup"))
			bad = bench_parse_u64(val, &o->warmup_s) || o->warmup_s > 3600;
		else if(!strcmp(a, "--seconds"))
			bad = bench_parse_u64(val, &o->seconds) || o->seconds == 0 || o->seconds > 3600;
		else if(!strcmp(a, "--drain"))
			bad = bench_parse_u64(val, &o->drain_s) || o->drain_s > 3600;
		else if(!strcmp(a, "--window"))
			bad = bench_parse_u64(val, &o->window) || o->window == 0 || o->window > 65535;
		else if(!strcmp(a, "--size"))
			bad = bench_parse_u64(val, &o->size) || o->size >= BENCH_PAYLOAD_MAX;
		else if(!strcmp(a, "--broker-pid")) {
			bad = bench_parse_u64(val, &pid) || pid == 0 || pid > 4194304;
			o->broker_pid = (long)pid;
		} else if(!strcmp(a, "--label"))
			o->label = val;
		else if(!strcmp(a, "--jitter"))
			bad = bench_parse_u64(val, &o->jitter) || o->jitter > 90;
		else if(!strcmp(a, "--dump"))
			o->dump = val;
		else if(!strcmp(a, "--hold-ms"))
			bad = bench_parse_u64(val, &o->hold_ms) || o->hold_ms > 60000;
		else
			bad = 1;
		if(bad) {
			fprintf(stderr, "fanout_bench: bad option %s %s\n", a, val);
			return -1;
		}
	}
	o->port = (int)port;
	return 0;
}

/* CPU time (user + system) of process pid in clock ticks, -1 when unknown. */
static long long proc_ticks(long pid)
{
	char path[64], buf[1024];
	const char *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if(!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces: fields count from the last ')'. */
	p = strrchr(buf, ')');
	if(!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
        const mosquitto_property *props)
{
	struct sub *s = ((struct bench_client *)obj)->arg;
	struct run *r = s->r;
	int64_t now = bench_now_ns(), sent, prev;
	uint64_t seq, lat, bucket;

	(void)mosq;
	(void)props;
	/* libmosquitto NUL-terminates every payload; a state message carries
	 * the newest event's "message", and with it its send time and seq. */
	if(!msg->payload || bench_payload_parse(msg->payload, &sent, &seq) < 0 || seq >= r->total) {
		r->foreign++;
		return;
	}
	r->delivered++;
	r->t_last_delivery = now;
	if(s->any && seq <= s->last_seq) {
		r->reordered++;
		return;
	}
	/* This delivery is the first one to show this subscriber every event
	 * after the last one it saw. */
	for(uint64_t k = s->any ? s->last_seq + 1 : seq; k <= seq; k++) {
		if(k < r->first_measured || k >= r->end_measured)
			continue;
		lat = now > r->sent_ns[k] ? (uint64_t)(now - r->sent_ns[k]) : 0;
		if(lat > r->vis_max_ns)
			r->vis_max_ns = lat;
		bucket = lat / (HIST_US * 1000u);
		r->vis[bucket < HIST_N ? bucket : HIST_N]++;
		r->nvis++;
		if(r->dump)
			fprintf(r->dump, "vis %" PRIu64 "\n", lat);
	}
	s->any = true;
	s->last_seq = seq;
	prev = s->last_recv;
	s->last_recv = now;
	if(seq < r->first_measured || seq >= r->end_measured)
		return;
	if(r->o.hold_ms) {
		/* The rule allows a state no sooner than its newest event, nor
		 * sooner than one interval after the one before it. */
		int64_t allowed = sent;

		if(prev && prev + (int64_t)r->o.hold_ms * 1000000 > allowed)
			allowed = prev + (int64_t)r->o.hold_ms * 1000000;
		lat = now > allowed ? (uint64_t)(now - allowed) : 0;
		if(lat > r->late_max_ns)
			r->late_max_ns = lat;
		bucket = lat / (HIST_US * 1000u);
		r->late[bucket < HIST_N ? bucket : HIST_N]++;
		r->nlate++;
		if(r->dump)
			fprintf(r->dump, "late %" PRIu64 "\n", lat);
	}
	s->count++;
	r->measured++;
	lat = now > sent ? (uint64_t)(now - sent) : 0;
	if(lat > r->max_ns)
		r->max_ns = lat;
	bucket = lat / (HIST_US * 1000u);
	r->hist[bucket < HIST_N ? bucket : HIST_N]++;
}

/* When event k is due: evenly paced at the rate, each moved later by a
 * fixed pseudo-random part of --jitter (the same in every run). Event k
 * stays before event k + 1 while the jitter is below 100%. */
static int64_t send_time(const struct run *r, uint64_t k)
{
	double at = (double)k;

	if(r->o.jitter) {
		uint64_t x = (k + 1) * 0x9E3779B97F4A7C15ULL;

		x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
		x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
		x ^= x >> 31;
		at += (double)r->o.jitter / 100.0 * (double)(x >> 11) / 9007199254740992.0;
	}
	return r->t_start + (int64_t)(at / (double)r->o.rate * 1e9);
}

/* Creates the publisher and every subscriber and connects them all. */
static int connect_all(struct run *r)
{
	long pid = (long)getpid();

	if(bench_conn_init(&r->conn, "fanout_bench", (size_t)r->o.subs + 1, r->filter, on_message) < 0)
		return -1;
	r->conn.window = r->o.window;
	if(bench_conn_client(&r->conn, 0, r, "jwfan-pub-%ld-0", pid) < 0)
		return -1;
	for(uint64_t i = 0; i < r->o.subs; i++) {
		r->subs[i].r = r;
		if(bench_conn_client(
		           &r->conn, (size_t)i + 1, &r->subs[i], "jwfan-sub-%ld-%" PRIu64, pid, i) < 0)
			return -1;
	}
	return bench_conn_connect(&r->conn, r->o.host, r->o.port, 60);
}

static int publish_one(struct run *r)
{
	uint64_t seq = r->sent;
	int64_t t = bench_now_ns();
	int len, rc;

	/* One job: step seq of total + 1, so progress and current only grow. */
	len = bench_payload_format(
	        r->payload, sizeof(r->payload), seq, seq, r->total + 1, t, (size_t)r->o.size);
	if(len < 0) {
		fprintf(stderr, "fanout_bench: payload does not fit\n");
		r->conn.failed = true;
		return -1;
	}
	rc = mosquitto_publish_v5(
	        r->conn.clients[0].m, NULL, r->pub_topic, len, r->payload, 1, false, NULL);
	if(rc) {
		bench_conn_fail(&r->conn, "publish", rc);
		return -1;
	}
	if(seq == r->first_measured)
		r->t_window = t;
	if(seq == r->end_measured - 1)
		r->t_window_end = t;
	r->sent_ns[seq] = t;
	r->last_len = len;
	r->sent++;
	return 0;
}

/* Nearest-rank percentile of a histogram of n values, in ms (upper edge
 * of the bucket). */
static double pct_ms(const uint32_t *hist, uint64_t n, uint64_t max_ns, double p)
{
	uint64_t rank = (uint64_t)((p / 100.0) * (double)n + 0.999999), seen = 0;

	if(!n)
		return 0.0;
	if(rank < 1)
		rank = 1;
	for(uint64_t b = 0; b < HIST_N; b++) {
		seen += hist[b];
		if(seen >= rank)
			return (double)((b + 1) * HIST_US) / 1000.0;
	}
	return (double)max_ns / 1e6;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int run(struct run *r)
{
	long long c0 = -1, c1 = -1;
	int64_t last_misc, t_end_pub = 0, t_drain_end = 0, now, pub_deadline;
	double secs, all_secs, broker_pct = -1.0, sub_min, sub_med, sub_max;
	uint64_t *per_sub, expected;

	if(connect_all(r) < 0)
		return -1;
	r->t_start = bench_now_ns();
	last_misc = r->t_start;
	pub_deadline = r->t_start + (int64_t)(r->total / r->o.rate + 1) * 1000000000LL;
	for(;;) {
		now = bench_now_ns();
		if(r->sent < r->total && now > pub_deadline) {
			/* The publisher fell behind (a saturated broker or client):
			 * stop at the planned end and measure what was sent. */
			fprintf(stderr, "fanout_bench: only %" PRIu64 " of %" PRIu64 " events sent in time\n",
			        r->sent, r->total);
			r->behind = true;
			if(r->sent < r->end_measured) {
				r->end_measured = r->sent > r->first_measured ? r->sent : r->first_measured;
				r->t_window_end = now;
				if(r->o.broker_pid)
					c1 = proc_ticks(r->o.broker_pid);
			}
			r->total = r->sent;
		}
		if(r->sent < r->total) {
			while(r->sent < r->total && send_time(r, r->sent) <= now &&
			        r->sent - r->conn.acked < r->conn.window) {
				if(r->sent == r->first_measured && r->o.broker_pid)
					c0 = proc_ticks(r->o.broker_pid);
				if(publish_one(r) < 0)
					return -1;
				if(r->sent == r->end_measured && r->o.broker_pid)
					c1 = proc_ticks(r->o.broker_pid);
			}
		} else if(!t_end_pub) {
			t_end_pub = now;
			t_drain_end = now + (int64_t)r->o.drain_s * 1000000000LL;
		}
		if(t_end_pub) {
			/* Done when everything is acknowledged and nothing arrived
			 * for a second, or at the drain limit. */
			bool quiet = now - (r->t_last_delivery > t_end_pub ? r->t_last_delivery : t_end_pub) >
			             1000000000LL;

			if((r->conn.acked >= r->total && quiet) || now > t_drain_end)
				break;
		}
		if(bench_conn_loop(&r->conn, 1, now - last_misc > 1000000000LL) < 0)
			return -1;
		if(now - last_misc > 1000000000LL)
			last_misc = now;
	}

	/* Zero when the publisher never reached the measured window. */
	secs = r->t_window && r->t_window_end > r->t_window
	               ? (double)(r->t_window_end - r->t_window) / 1e9
	               : 0.0;
	if(c0 >= 0 && c1 >= 0 && secs > 0)
		broker_pct = 100.0 * (double)(c1 - c0) / (double)sysconf(_SC_CLK_TCK) / secs;
	all_secs = (double)(r->t_last_delivery - r->t_start) / 1e9;
	if(secs <= 0)
		secs = INFINITY; /* every per-second rate below reads 0 */
	per_sub = calloc((size_t)r->o.subs, sizeof(*per_sub));
	if(!per_sub)
		return -1;
	for(uint64_t i = 0; i < r->o.subs; i++)
		per_sub[i] = r->subs[i].count;
	qsort(per_sub, (size_t)r->o.subs, sizeof(*per_sub), cmp_u64);
	sub_min = (double)per_sub[0] / secs;
	sub_med = (double)per_sub[r->o.subs / 2] / secs;
	sub_max = (double)per_sub[r->o.subs - 1] / secs;
	free(per_sub);
	/* Deliveries a raw subscription would take in the window. */
	expected = (r->end_measured - r->first_measured) * r->o.subs;
	printf("label=%s topic=%s subs=%" PRIu64 " rate=%" PRIu64 " seconds=%.3f events=%" PRIu64
	       " pub_rate=%.0f acked=%" PRIu64 " rejected=%" PRIu64 " deliveries=%" PRIu64
	       " raw_equivalent=%" PRIu64 " reduction=%.1f per_sub_per_s_min=%.2f"
	       " per_sub_per_s_median=%.2f per_sub_per_s_max=%.2f deliveries_per_s=%.0f"
	       " all_deliveries=%" PRIu64 " all_deliveries_per_s=%.0f"
	       " behind=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f vis_events=%" PRIu64 " vis_p50_ms=%.2f"
	       " vis_p99_ms=%.2f vis_max_ms=%.2f reordered=%" PRIu64 " foreign=%" PRIu64
	       " event_bytes=%d broker_cpu_pct=%.1f client_cpu_s=%.1f jitter_pct=%" PRIu64
	       " late_deliveries=%" PRIu64 " late_p50_ms=%.2f late_p99_ms=%.2f late_max_ms=%.2f\n",
	        r->o.label, r->o.topic, r->o.subs, r->o.rate, isinf(secs) ? 0.0 : secs,
	        r->end_measured - r->first_measured,
	        (double)(r->end_measured - r->first_measured) / secs, r->conn.acked, r->conn.rejected,
	        r->measured, expected, r->measured ? (double)expected / (double)r->measured : 0.0,
	        sub_min, sub_med, sub_max, (double)r->measured / secs, r->delivered,
	        all_secs > 0 ? (double)r->delivered / all_secs : 0.0, (int)r->behind,
	        pct_ms(r->hist, r->measured, r->max_ns, 50),
	        pct_ms(r->hist, r->measured, r->max_ns, 99), (double)r->max_ns / 1e6, r->nvis,
	        pct_ms(r->vis, r->nvis, r->vis_max_ns, 50), pct_ms(r->vis, r->nvis, r->vis_max_ns, 99),
	        (double)r->vis_max_ns / 1e6, r->reordered, r->foreign, r->last_len, broker_pct,
	        bench_cpu_seconds(), r->o.jitter, r->nlate,
	        pct_ms(r->late, r->nlate, r->late_max_ns, 50),
	        pct_ms(r->late, r->nlate, r->late_max_ns, 99), (double)r->late_max_ns / 1e6);
	fflush(stdout);
	return r->conn.failed ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct run r;
	struct rlimit rl;
	int rc = 1, n1, n2;

	r.o = (struct options){.host = "127.0.0.1",
	        .port = 1883,
	        .subs = 1000,
	        .topic = "state",
	        .session = "fanout",
	        .job = "job-0",
	        .label = "run",
	        .rate = 1000,
	        .warmup_s = 2,
	        .seconds = 10,
	        .drain_s = 5,
	        .window = 20,
	        .size = BENCH_PAYLOAD_SIZE};
	if(parse_args(argc, argv, &r.o) < 0) {
		usage(stderr);
		return 2;
	}
	/* Three descriptors per connection: the socket and libmosquitto's
	 * socket pair for waking its loop. */
	if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 3 * r.o.subs + 64) {
		rl.rlim_cur = rl.rlim_max < 3 * r.o.subs + 64 ? rl.rlim_max : 3 * r.o.subs + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	n1 = snprintf(r.pub_topic, sizeof(r.pub_topic), "jobs/%s/%s/progress", r.o.session, r.o.job);
	n2 = snprintf(r.filter, sizeof(r.filter), "jobs/%s/%s/%s", r.o.session, r.o.job, r.o.topic);
	if(n1 < 0 || (size_t)n1 >= sizeof(r.pub_topic) || n2 < 0 || (size_t)n2 >= sizeof(r.filter)) {
		fprintf(stderr, "fanout_bench: topic too long\n");
		return 2;
	}
	r.first_measured = r.o.rate * r.o.warmup_s;
	r.end_measured = r.first_measured + r.o.rate * r.o.seconds;
	/* One more second after the window, so the window's last events are
	 * followed by normal traffic, not by the end of the stream. */
	r.total = r.end_measured + r.o.rate;
	r.subs = calloc((size_t)r.o.subs, sizeof(*r.subs));
	r.hist = calloc(HIST_N + 1, sizeof(*r.hist));
	r.vis = calloc(HIST_N + 1, sizeof(*r.vis));
	r.late = calloc(HIST_N + 1, sizeof(*r.late));
	r.sent_ns = calloc((size_t)r.total, sizeof(*r.sent_ns));
	if(!r.subs || !r.hist || !r.vis || !r.late || !r.sent_ns) {
		fprintf(stderr, "fanout_bench: out of memory\n");
		goto out;
	}
	if(r.o.dump && !(r.dump = fopen(r.o.dump, "w"))) {
		fprintf(stderr, "fanout_bench: cannot write %s\n", r.o.dump);
		goto out;
	}
	mosquitto_lib_init();
	if(run(&r) == 0)
		rc = 0;
	if(r.dump && fclose(r.dump) != 0)
		rc = 1;
	bench_conn_cleanup(&r.conn);
	mosquitto_lib_cleanup();
out:
	free(r.subs);
	free(r.hist);
	free(r.vis);
	free(r.late);
	free(r.sent_ns);
	return rc;
}
