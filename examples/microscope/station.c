/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * A microscopy-station simulator: acquires a Z-stack and reports it as a
 * jobwire job over MQTT (libmosquitto), the way a station on a flaky lab
 * network should. It publishes started, per-plane progress with step names,
 * validation-required when the focus confidence of a plane is low, and
 * complete; heartbeats with the machine's load; its station status
 * (stations/{id}/status, retained, schemas/station.json: CPU and memory
 * of this machine, a simulated GPU) refreshed with every heartbeat, with a
 * will that says offline; and it reconnects with backoff and buffers events
 * while offline, sending them in order once the broker is back.
 *
 *   jobwire-station [--host H] [--port P] [--station ID] [--planes N]
 *                   [--plane-ms MS] [--focus-threshold F] [--seed S]
 */
#define _DEFAULT_SOURCE /* usleep, getloadavg */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#define MAX_BUFFER 10000

struct pending {
	char *topic;
	char *payload;
	int mid; /* 0: not sent since the last (re)connect */
	int acked;
};

struct station {
	struct mosquitto *mosq;
	pthread_mutex_t lock;
	int connected;
	int ever_connected;
	unsigned long reconnects;
	struct pending q[MAX_BUFFER];
	size_t head, count; /* FIFO of events not yet acknowledged */
	unsigned long dropped, sent, acked;
	char station[64];
	char status_topic[128];
	char session[129];
};

static void now_ts(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%.19s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends what the FIFO holds, oldest first, while connected. Caller holds
 * the lock. At most 20 unacknowledged at a time keeps order on reconnect. */
static void flush_locked(struct station *s)
{
	size_t inflight = 0;
	for(size_t i = 0; i < s->count && s->connected; i++) {
		struct pending *p = &s->q[(s->head + i) % MAX_BUFFER];
		if(p->acked) {
			continue;
		}
		if(p->mid) {
			if(++inflight >= 20) {
				break;
			}
			continue;
		}
		int mid = 0;
		int rc = mosquitto_publish(
		        s->mosq, &mid, p->topic, (int)strlen(p->payload), p->payload, 1, false);
		if(rc != MOSQ_ERR_SUCCESS) {
			break; /* not connected after all: stays buffered */
		}
		p->mid = mid;
		s->sent++;
		if(++inflight >= 20) {
			break;
		}
	}
}

static void enqueue(struct station *s, const char *topic, const char *payload)
{
	pthread_mutex_lock(&s->lock);
	if(s->count == MAX_BUFFER) {
		/* Full: the oldest event is lost; counted and reported. */
		struct pending *old = &s->q[s->head];
		free(old->topic);
		free(old->payload);
		s->head = (s->head + 1) % MAX_BUFFER;
		s->count--;
		s->dropped++;
	}
	struct pending *p = &s->q[(s->head + s->count) % MAX_BUFFER];
	p->topic = strdup(topic);
	p->payload = strdup(payload);
	p->mid = 0;
	p->acked = 0;
	s->count++;
	if(!s->connected) {
		printf("offline: buffered %s (%zu waiting)\n", topic, s->count);
	}
	flush_locked(s);
	pthread_mutex_unlock(&s->lock);
}

static double cpu_percent(void);
static double memory_percent(void);

/*
 * Publishes the station's status now (retained, not buffered: only the
 * latest matters). The GPU is simulated: a deconvolution load that swings
 * between 60 and 99 percent, so that a dashboard's high-load warning can
 * be seen.
 */
static void publish_status(struct station *s, struct mosquitto *mosq, const char *state)
{
	char payload[1024], ts[40], sys[300] = "";
	double cpu = cpu_percent(), mem = memory_percent();
	int k = 0, phase = (int)(mono() * 4.0) % 80;
	int gpu = 60 + (phase < 40 ? phase : 80 - phase);

	if(!strcmp(state, "online")) {
		if(cpu >= 0) {
			k += snprintf(sys + k, sizeof(sys) - (size_t)k, "\"cpu_percent\":%.1f,", cpu);
		}
		if(mem >= 0) {
			k += snprintf(sys + k, sizeof(sys) - (size_t)k, "\"memory_percent\":%.1f,", mem);
		}
		snprintf(sys + k, sizeof(sys) - (size_t)k,
		        "\"gpu_percent\":%d,\"gpu_memory_percent\":%d,\"temperature_c\":%.1f,"
		        "\"queue_length\":0",
		        gpu, 30 + gpu / 3, 45.0 + gpu / 4.0);
	}
	now_ts(ts, sizeof(ts));
	snprintf(payload, sizeof(payload),
	        "{\"ts\":\"%s\",\"state\":\"%s\",\"name\":\"Microscope %s\","
	        "\"model\":\"jobwire simulated Z-stack scope\",\"sessions\":[\"%s\"]%s%s%s}",
	        ts, state, s->station, s->session, sys[0] ? ",\"system\":{" : "", sys,
	        sys[0] ? "}" : "");
	mosquitto_publish(mosq, NULL, s->status_topic, (int)strlen(payload), payload, 1, true);
}

static void on_connect(struct mosquitto *mosq, void *ud, int rc)
{
	struct station *s = ud;
	if(rc != 0) {
		printf("broker refused the connection: %s\n", mosquitto_connack_string(rc));
		return;
	}
	publish_status(s, mosq, "online");
	pthread_mutex_lock(&s->lock);
	s->connected = 1;
	if(s->ever_connected) {
		s->reconnects++;
		printf("online again: sending %zu buffered events\n", s->count);
	}
	s->ever_connected = 1;
	/* Anything sent but not acknowledged before the cut is sent again. */
	for(size_t i = 0; i < s->count; i++) {
		s->q[(s->head + i) % MAX_BUFFER].mid = 0;
	}
	flush_locked(s);
	pthread_mutex_unlock(&s->lock);
	fflush(stdout);
}

static void on_disconnect(struct mosquitto *mosq, void *ud, int rc)
{
	(void)mosq;
	struct station *s = ud;
	pthread_mutex_lock(&s->lock);
	if(s->connected && rc != 0) {
		printf("connection lost: buffering events until the broker is back\n");
		fflush(stdout);
	}
	s->connected = 0;
	pthread_mutex_unlock(&s->lock);
}

static void on_publish(struct mosquitto *mosq, void *ud, int mid)
{
	(void)mosq;
	struct station *s = ud;
	pthread_mutex_lock(&s->lock);
	for(size_t i = 0; i < s->count; i++) {
		struct pending *p = &s->q[(s->head + i) % MAX_BUFFER];
		if(p->mid == mid && !p->acked) {
			p->acked = 1;
			s->acked++;
			break;
		}
	}
	while(s->count > 0 && s->q[s->head].acked) {
		free(s->q[s->head].topic);
		free(s->q[s->head].payload);
		s->head = (s->head + 1) % MAX_BUFFER;
		s->count--;
	}
	flush_locked(s);
	pthread_mutex_unlock(&s->lock);
}

/* CPU use since the last call, from /proc/stat; -1 when unknown. */
static double cpu_percent(void)
{
	static unsigned long long last_total, last_idle;
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	if(!f) {
		return -1;
	}
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	        &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if(n < 4) {
		return -1;
	}
	unsigned long long total = 0, idle = v[3] + v[4];
	for(int i = 0; i < 8; i++) {
		total += v[i];
	}
	double pct = -1;
	if(last_total && total > last_total) {
		pct = 100.0 * (1.0 - (double)(idle - last_idle) / (double)(total - last_total));
	}
	last_total = total;
	last_idle = idle;
	return pct < 0 ? -1 : pct > 100 ? 100 : pct;
}

static double memory_percent(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if(!f) {
		return -1;
	}
	char line[128];
	double total = 0, avail = -1;
	while(fgets(line, sizeof(line), f)) {
		sscanf(line, "MemTotal: %lf", &total);
		sscanf(line, "MemAvailable: %lf", &avail);
	}
	fclose(f);
	return total > 0 && avail >= 0 ? 100.0 * (total - avail) / total : -1;
}

static void heartbeat(struct station *s, const char *base)
{
	char topic[400], payload[300], ts[40], sys[200] = "";
	double cpu = cpu_percent(), mem = memory_percent(), load[1] = {0};
	int k = 0;
	if(cpu >= 0) {
		k += snprintf(sys + k, sizeof(sys) - (size_t)k, "\"cpu_percent\":%.1f,", cpu);
	}
	if(mem >= 0) {
		k += snprintf(sys + k, sizeof(sys) - (size_t)k, "\"memory_percent\":%.1f,", mem);
	}
	if(getloadavg(load, 1) == 1) {
		k += snprintf(sys + k, sizeof(sys) - (size_t)k, "\"load_1m\":%.2f,", load[0]);
	}
	k += snprintf(sys + k, sizeof(sys) - (size_t)k, "\"queue_length\":0");
	now_ts(ts, sizeof(ts));
	snprintf(topic, sizeof(topic), "%s/heartbeat", base);
	snprintf(payload, sizeof(payload), "{\"ts\":\"%s\",\"system\":{%s}}", ts, sys);
	enqueue(s, topic, payload);
	/* The station's status is refreshed with every heartbeat, well within
	 * the broker's plugin_opt_station_timeout. */
	pthread_mutex_lock(&s->lock);
	int connected = s->connected;
	pthread_mutex_unlock(&s->lock);
	if(connected) {
		publish_status(s, s->mosq, "online");
	}
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: jobwire-station [--host H] [--port P] [--station ID] [--session S] [--job J]\n"
	        "                       [--planes N] [--plane-ms MS] [--focus-threshold F] [--seed S]\n"
	        "                       [--heartbeat SECS] [--prefix P]\n");
}

static int arg_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if(!*s || *end || errno || v < min || v > max) {
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static struct station s;
	const char *host = "127.0.0.1", *session = NULL, *job = NULL, *prefix = "jobs";
	long port = 1883, planes = 20, plane_ms = 200, seed = 7, hb = 2;
	double threshold = 0.6;
	snprintf(s.station, sizeof(s.station), "scope-1");
	for(int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if(!v) {
			usage();
			return 64;
		}
		if(!strcmp(o, "--host"))
			host = v;
		else if(!strcmp(o, "--port"))
			bad = arg_long(v, 1, 65535, &port);
		else if(!strcmp(o, "--station"))
			snprintf(s.station, sizeof(s.station), "%s", v);
		else if(!strcmp(o, "--session"))
			session = v;
		else if(!strcmp(o, "--job"))
			job = v;
		else if(!strcmp(o, "--prefix"))
			prefix = v;
		else if(!strcmp(o, "--planes"))
			bad = arg_long(v, 1, 10000, &planes);
		else if(!strcmp(o, "--plane-ms"))
			bad = arg_long(v, 1, 600000, &plane_ms);
		else if(!strcmp(o, "--seed"))
			bad = arg_long(v, 0, 1L << 30, &seed);
		else if(!strcmp(o, "--heartbeat"))
			bad = arg_long(v, 1, 3600, &hb);
		else if(!strcmp(o, "--focus-threshold")) {
			char *end;
			threshold = strtod(v, &end);
			bad = *end || threshold < 0 || threshold > 1;
		} else {
			usage();
			return 64;
		}
		if(bad) {
			fprintf(stderr, "jobwire-station: bad value for %s: %s\n", o, v);
			return 64;
		}
		i++;
	}
	char jobbuf[64];
	if(!job) {
		snprintf(jobbuf, sizeof(jobbuf), "zstack-%ld", (long)time(NULL));
		job = jobbuf;
	}
	if(!session) {
		session = s.station;
	}
	char base[300];
	snprintf(base, sizeof(base), "%s/%s/%s", prefix, session, job);
	snprintf(s.status_topic, sizeof(s.status_topic), "stations/%s/status", s.station);
	snprintf(s.session, sizeof(s.session), "%s", session);
	pthread_mutex_init(&s.lock, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	mosquitto_lib_init();
	char client_id[100];
	snprintf(client_id, sizeof(client_id), "station-%s", s.station);
	s.mosq = mosquitto_new(client_id, true, &s);
	if(!s.mosq) {
		perror("mosquitto_new");
		return 70;
	}
	char will[200];
	snprintf(will, sizeof(will), "{\"state\":\"offline\",\"reason\":\"connection lost\"}");
	/* Retained: anyone subscribing later sees that the station is gone. */
	mosquitto_will_set(s.mosq, s.status_topic, (int)strlen(will), will, 1, true);
	/* The broker's JWT mode: the token is the password (any user name). */
	const char *token = getenv("JOBWIRE_TOKEN");
	if(token && *token) {
		mosquitto_username_pw_set(s.mosq, "jobwire", token);
	}
	mosquitto_connect_callback_set(s.mosq, on_connect);
	mosquitto_disconnect_callback_set(s.mosq, on_disconnect);
	mosquitto_publish_callback_set(s.mosq, on_publish);
	/* Backoff 1 s doubling to 16 s between attempts. */
	mosquitto_reconnect_delay_set(s.mosq, 1, 16, true);
	/* connect_async: a station that boots before the broker keeps trying. */
	mosquitto_connect_async(s.mosq, host, (int)port, 10);
	mosquitto_loop_start(s.mosq);

	static const char *const steps[] = {"move_stage", "autofocus", "acquire", "save"};
	char topic[400], payload[1200], ts[40];
	double t0 = mono(), last_hb = 0;
	unsigned long rnd = (unsigned long)seed * 2654435761UL + 1;
	char low[600] = "";
	size_t lowlen = 0;
	int nlow = 0;

	printf("station %s: Z-stack of %ld planes as %s\n", s.station, planes, base);
	now_ts(ts, sizeof(ts));
	snprintf(topic, sizeof(topic), "%s/started", base);
	snprintf(payload, sizeof(payload),
	        "{\"ts\":\"%s\",\"name\":\"Z-stack, %ld planes\",\"total\":%ld,"
	        "\"steps\":[\"move_stage\",\"autofocus\",\"acquire\",\"save\"],"
	        "\"heartbeat_interval_s\":%ld,\"worker\":\"%s\",\"station\":\"%s\","
	        "\"metadata\":{\"z_step_um\":0.5,\"objective\":\"63x/1.4 oil\"}}",
	        ts, planes, planes, hb, s.station, s.station);
	enqueue(&s, topic, payload);
	for(long p = 1; p <= planes; p++) {
		for(int k = 0; k < 4; k++) {
			usleep((useconds_t)(plane_ms * 1000 / 4));
			if(mono() - last_hb >= (double)hb) {
				heartbeat(&s, base);
				last_hb = mono();
			}
			now_ts(ts, sizeof(ts));
			snprintf(topic, sizeof(topic), "%s/progress", base);
			snprintf(payload, sizeof(payload),
			        "{\"ts\":\"%s\",\"current\":%.2f,\"total\":%ld,\"step\":\"%s\",\"message\":"
			        "\"plane %ld/%ld: %s\",\"eta_s\":%.1f}",
			        ts, (double)(p - 1) + (k + 1) / 4.0, planes, steps[k], p, planes, steps[k],
			        (double)(planes - p) * (double)plane_ms / 1000.0 +
			                (3 - k) * (double)plane_ms / 4000.0);
			enqueue(&s, topic, payload);
			if(k == 1) {
				/* Autofocus: a pseudo-random focus confidence per plane. */
				rnd = rnd * 6364136223846793005UL + 1442695040888963407UL;
				double conf = (double)((rnd >> 33) % 1000) / 1000.0;
				if(conf < threshold) {
					now_ts(ts, sizeof(ts));
					snprintf(topic, sizeof(topic), "%s/validation-required", base);
					snprintf(payload, sizeof(payload),
					        "{\"ts\":\"%s\",\"reason\":\"Low focus confidence on plane "
					        "%ld\",\"confidence\":%.3f,"
					        "\"threshold\":%.3f,\"item\":{\"plane\":%ld,\"z_um\":%.1f},"
					        "\"actions\":[\"accept\",\"refocus\",\"skip\"]}",
					        ts, p, conf, threshold, p, (double)(p - 1) * 0.5);
					enqueue(&s, topic, payload);
					printf("plane %ld: focus confidence %.3f below %.3f: validation requested\n", p,
					        conf, threshold);
					if(lowlen + 16 < sizeof(low)) {
						lowlen += (size_t)snprintf(
						        low + lowlen, sizeof(low) - lowlen, "%s%ld", nlow ? "," : "", p);
					}
					nlow++;
				}
			}
		}
	}
	now_ts(ts, sizeof(ts));
	snprintf(topic, sizeof(topic), "%s/complete", base);
	snprintf(payload, sizeof(payload),
	        "{\"ts\":\"%s\",\"result\":{\"planes\":%ld,\"low_focus_planes\":[%s]},\"message\":\"Z-"
	        "stack acquired\",\"duration_s\":%.2f}",
	        ts, planes, low, mono() - t0);
	enqueue(&s, topic, payload);

	/* Wait until every event is acknowledged (the broker may be away). */
	printf("acquisition done: waiting for the broker to acknowledge every event\n");
	for(;;) {
		pthread_mutex_lock(&s.lock);
		size_t left = s.count;
		if(s.connected) {
			flush_locked(&s);
		}
		pthread_mutex_unlock(&s.lock);
		if(left == 0) {
			break;
		}
		usleep(50000);
	}
	publish_status(&s, s.mosq, "offline");
	usleep(200000);
	printf("done: %lu events acknowledged, %lu sends, %lu reconnects, %lu dropped, %d low-focus "
	       "planes\n",
	        s.acked, s.sent, s.reconnects, s.dropped, nlow);
	mosquitto_disconnect(s.mosq);
	mosquitto_loop_stop(s.mosq, false);
	mosquitto_destroy(s.mosq);
	mosquitto_lib_cleanup();
	return 0;
}
