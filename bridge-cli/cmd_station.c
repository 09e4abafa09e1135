/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire station: publishes this machine's status as a station
 * (stations/{id}/status, retained, docs/topics.md "Stations") every few
 * seconds, with CPU and memory from /proc and the GPU from nvidia-smi
 * where it is installed, and a will that says offline when the
 * connection is lost. For a lab whose stations have no code of their own.
 */
#define _GNU_SOURCE /* popen, pclose */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "json.h"
#include "stations.h"
#include "topic.h"
#include "util/buf.h"

static const char help[] =
        "usage: jobwire station --id ID [--every 10s] [--name N] [--sessions S1,S2]\n"
        "\n"
        "Publishes this machine's status on stations/ID/status (retained, MQTT 5\n"
        "QoS 1) every interval: CPU and memory load from /proc, and GPU load, GPU\n"
        "memory and temperature from nvidia-smi when it is installed. Its will says\n"
        "offline when the connection is lost; on SIGINT or SIGTERM it publishes\n"
        "offline itself. Publish more often than the broker's\n"
        "plugin_opt_station_timeout (60 s by default).\n"
        "\n"
        "      --id ID            the station id (1-128 of A-Z a-z 0-9 . _ -)\n"
        "      --every T          interval, e.g. 5s, 1m [10s]\n"
        "      --name N           name shown by dashboards\n"
        "      --model M          --firmware F: shown by dashboards\n"
        "      --sessions LIST    comma-separated sessions the station serves\n"
        "      --queue N          queue_length to report [not reported]\n"
        "      --count N          publish N statuses, then stop (offline) [forever]\n"
        "\n"
        "Exit status: 0 stopped, 1 a status was refused, 3 cannot connect,\n"
        "64 bad arguments.\n\n";

enum { O_ID = 1, O_EVERY, O_NAME, O_MODEL, O_FIRMWARE, O_SESSIONS, O_QUEUE, O_COUNT };

static const struct jw_opt opts[] = {
        {"id", 0, 1, O_ID},
        {"every", 0, 1, O_EVERY},
        {"name", 0, 1, O_NAME},
        {"model", 0, 1, O_MODEL},
        {"firmware", 0, 1, O_FIRMWARE},
        {"sessions", 0, 1, O_SESSIONS},
        {"queue", 0, 1, O_QUEUE},
        {"count", 0, 1, O_COUNT},
        JW_COMMON_OPTS,
        {NULL, 0, 0, 0},
};

struct station_opts {
	const char *id, *name, *model, *firmware, *sessions;
	double every;
	long queue; /* -1: not reported */
	long count; /* 0: forever */
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* Appends s as a JSON string (the options are the user's text). */
static void add_json_str(struct jw_buf *b, const char *s)
{
	jw_buf_add_str(b, "\"");
	for(; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if(c == '"' || c == '\\') {
			jw_buf_printf(b, "\\%c", c);
		} else if(c < 0x20) {
			jw_buf_printf(b, "\\u%04x", c);
		} else {
			jw_buf_add(b, s, 1);
		}
	}
	jw_buf_add_str(b, "\"");
}

/* CPU time counters of /proc/stat's first line: busy and total. */
static int cpu_sample(uint64_t *busy, uint64_t *total)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if(!f) {
		return -1;
	}
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
	        &v[5], &v[6], &v[7]);
	fclose(f);
	if(n < 4) {
		return -1;
	}
	*total = 0;
	for(int i = 0; i < 8; i++) {
		*total += v[i];
	}
	/* idle and iowait are not busy. */
	*busy = *total - v[3] - v[4];
	return 0;
}

/* Used memory in percent from /proc/meminfo (MemAvailable), or -1. */
static double memory_percent(void)
{
	unsigned long long total = 0, avail = 0, x;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if(!f) {
		return -1;
	}
	while(fgets(line, sizeof(line), f)) {
		if(sscanf(line, "MemTotal: %llu", &x) == 1) {
			total = x;
		} else if(sscanf(line, "MemAvailable: %llu", &x) == 1) {
			avail = x;
		}
	}
	fclose(f);
	if(!total || avail > total) {
		return -1;
	}
	return 100.0 * (double)(total - avail) / (double)total;
}

/* Whether nvidia-smi is on the PATH. */
static int have_nvidia_smi(void)
{
	const char *path = getenv("PATH");
	char dir[4096], file[4200];

	while(path && *path) {
		size_t n = strcspn(path, ":");

		if(n && n < sizeof(dir)) {
			memcpy(dir, path, n);
			dir[n] = '\0';
			snprintf(file, sizeof(file), "%s/nvidia-smi", dir);
			if(access(file, X_OK) == 0) {
				return 1;
			}
		}
		path += n + (path[n] == ':');
	}
	return 0;
}

/* The first GPU's load, memory use and temperature from nvidia-smi. */
static int gpu_sample(double *load, double *mem, double *temp)
{
	FILE *p = popen("nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total,"
	                "temperature.gpu --format=csv,noheader,nounits 2>/dev/null",
	        "r");
	double used, total;
	int n;

	if(!p) {
		return -1;
	}
	n = fscanf(p, "%lf , %lf , %lf , %lf", load, &used, &total, temp);
	pclose(p);
	if(n != 4 || total <= 0 || *load < 0 || *load > 100) {
		return -1;
	}
	*mem = 100.0 * used / total;
	return 0;
}

static double clamp_percent(double x)
{
	return x < 0 ? 0 : x > 100 ? 100 : x;
}

/* The status document: state, the options, and the machine's load. */
static char *status_json(
        const struct station_opts *o, const char *state, double cpu, int gpu, size_t *len)
{
	struct jw_buf b;
	double mem = memory_percent(), gload, gmem, gtemp;

	jw_buf_init(&b, 0);
	jw_buf_printf(&b, "{\"state\":\"%s\"", state);
	if(o->name) {
		jw_buf_add_str(&b, ",\"name\":");
		add_json_str(&b, o->name);
	}
	if(o->model) {
		jw_buf_add_str(&b, ",\"model\":");
		add_json_str(&b, o->model);
	}
	if(o->firmware) {
		jw_buf_add_str(&b, ",\"firmware\":");
		add_json_str(&b, o->firmware);
	}
	if(o->sessions) {
		const char *s = o->sessions;

		jw_buf_add_str(&b, ",\"sessions\":[");
		for(int first = 1; *s; first = 0) {
			size_t n = strcspn(s, ",");

			jw_buf_printf(&b, "%s\"%.*s\"", first ? "" : ",", (int)n, s);
			s += n + (s[n] == ',');
		}
		jw_buf_add_str(&b, "]");
	}
	if(!strcmp(state, "online")) {
		jw_buf_add_str(&b, ",\"system\":{");
		jw_buf_printf(&b, "\"cpu_percent\":%.1f", clamp_percent(cpu));
		if(mem >= 0) {
			jw_buf_printf(&b, ",\"memory_percent\":%.1f", clamp_percent(mem));
		}
		if(gpu && gpu_sample(&gload, &gmem, &gtemp) == 0) {
			jw_buf_printf(&b, ",\"gpu_percent\":%.1f,\"gpu_memory_percent\":%.1f", gload,
			        clamp_percent(gmem));
			if(gtemp > -273 && gtemp < 1000) {
				jw_buf_printf(&b, ",\"temperature_c\":%.1f", gtemp);
			}
		}
		if(o->queue >= 0) {
			jw_buf_printf(&b, ",\"queue_length\":%ld", o->queue);
		}
		jw_buf_add_str(&b, "}");
	} else {
		jw_buf_add_str(&b, ",\"reason\":\"stopped\"");
	}
	jw_buf_add_str(&b, "}");
	return jw_buf_take(&b, len);
}

/* Publishes text on topic (retained, QoS 1) and waits for its PUBACK.
 * 0, JW_EXIT_FAILED (refused) or JW_EXIT_CONNECT. */
static int publish_status(struct jw_client *cl, const char *topic, const char *text, size_t len)
{
	char err[400];
	int mid, reason = 0;

	if(jw_client_publish(cl, topic, text, len, 1, 1, NULL, NULL, 0, &mid, err, sizeof(err))) {
		jw_errorf("station", "%s", err);
		return JW_EXIT_CONNECT;
	}
	if(jw_client_wait_ack(cl, mid, 10, &reason)) {
		jw_errorf("station", "no answer from the broker");
		return JW_EXIT_CONNECT;
	}
	if(reason >= 0x80) {
		jw_errorf("station", "the broker refused the status (reason 0x%02x): %s", reason, text);
		return JW_EXIT_FAILED;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct jw_conn *conn, struct station_opts *o)
{
	const char *cmd = "station";
	char err[400], *end;
	struct jw_args a;
	int id;

	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next(cmd, &a, opts, conn, 0)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case O_ID:
				o->id = a.value;
				break;
			case O_EVERY:
				if(jw_parse_duration(a.value, &o->every, err, sizeof(err)) || o->every < 0.1) {
					jw_errorf(cmd, "--every: %s", o->every < 0.1 ? "at least 0.1s" : err);
					return JW_EXIT_USAGE;
				}
				break;
			case O_NAME:
				o->name = a.value;
				break;
			case O_MODEL:
				o->model = a.value;
				break;
			case O_FIRMWARE:
				o->firmware = a.value;
				break;
			case O_SESSIONS:
				o->sessions = a.value;
				break;
			case O_QUEUE:
			case O_COUNT: {
				long v = strtol(a.value, &end, 10);

				if(end == a.value || *end || v < 0 || v > 1000000000L) {
					jw_errorf(cmd, "--%s: a whole number, got \"%.40s\"",
					        id == O_QUEUE ? "queue" : "count", a.value);
					return JW_EXIT_USAGE;
				}
				*(id == O_QUEUE ? &o->queue : &o->count) = v;
				break;
			}
			default:
				break;
		}
	}
	return -1;
}

/* Whether every item of the comma list is a session id. */
static int sessions_ok(const char *s)
{
	char one[JW_ID_MAX + 1];

	while(*s) {
		size_t n = strcspn(s, ",");

		if(!n || n > JW_ID_MAX) {
			return 0;
		}
		memcpy(one, s, n);
		one[n] = '\0';
		if(!jw_topic_id_valid(one)) {
			return 0;
		}
		s += n + (s[n] == ',');
	}
	return 1;
}

int jw_cmd_station(int argc, char **argv)
{
	const char *cmd = "station";
	struct station_opts o = {NULL, NULL, NULL, NULL, NULL, 10, -1, 0};
	struct jw_conn conn;
	struct jw_client *cl = NULL;
	struct jw_will will;
	struct sigaction sa;
	char err[600], topic[JW_ID_MAX + 32];
	uint64_t busy0 = 0, total0 = 0, busy, total;
	int rc, gpu;
	long sent = 0;

	if(jw_conn_init(&conn, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	if((rc = parse_options(argc, argv, &conn, &o)) >= 0) {
		return rc;
	}
	if(conn.help) {
		fputs(help, stdout);
		fputs(jw_common_help, stdout);
		return 0;
	}
	if(!o.id || !jw_topic_id_valid(o.id)) {
		jw_errorf(cmd, "--id ID is required: 1-128 characters of A-Z a-z 0-9 . _ -");
		return JW_EXIT_USAGE;
	}
	if(o.sessions && !sessions_ok(o.sessions)) {
		jw_errorf(cmd, "--sessions: a comma-separated list of session ids");
		return JW_EXIT_USAGE;
	}
	if(!conn.client_id[0]) {
		snprintf(conn.client_id, sizeof(conn.client_id), "station-%.100s", o.id);
	}
	jw_station_topic_format(topic, sizeof(topic), o.id, JW_STATION_STATUS);
	will.topic = topic;
	will.payload = "{\"state\":\"offline\",\"reason\":\"connection lost\"}";
	will.qos = 1;
	will.retain = 1;
	if(jw_client_open(&conn, &will, &cl, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_CONNECT;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	gpu = have_nvidia_smi();
	(void)cpu_sample(&busy0, &total0);
	/* The first CPU figure needs two samples. */
	usleep(200000);
	rc = 0;
	while(!got_signal && (!o.count || sent < o.count)) {
		double cpu = 0, deadline;
		size_t len;
		char *text;

		if(cpu_sample(&busy, &total) == 0 && total > total0) {
			cpu = 100.0 * (double)(busy - busy0) / (double)(total - total0);
			busy0 = busy;
			total0 = total;
		}
		text = status_json(&o, "online", cpu, gpu, &len);
		if(!text) {
			rc = JW_EXIT_SOFTWARE;
			break;
		}
		rc = publish_status(cl, topic, text, len);
		free(text);
		if(rc) {
			break;
		}
		sent++;
		if(o.count && sent >= o.count) {
			break;
		}
		deadline = jw_now() + o.every;
		while(!got_signal && jw_now() < deadline) {
			usleep(50000);
		}
	}
	if(rc != JW_EXIT_CONNECT && rc != JW_EXIT_FAILED) {
		size_t len;
		char *text = status_json(&o, "offline", 0, 0, &len);

		if(text) {
			(void)publish_status(cl, topic, text, len);
			free(text);
		}
	}
	jw_client_close(cl);
	return rc;
}

/* The number member key of o into buf ("-" when absent). */
static void num_text(
        struct json_object *o, const char *key, const char *unit, char *buf, size_t cap)
{
	struct json_object *x;

	if(o && json_object_object_get_ex(o, key, &x) &&
	        (json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int))) {
		snprintf(buf, cap, "%.0f%s", json_object_get_double(x), unit);
	} else {
		snprintf(buf, cap, "-");
	}
}

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *x;

	if(o && json_object_object_get_ex(o, key, &x) && json_object_is_type(x, json_type_string)) {
		return json_object_get_string(x);
	}
	return NULL;
}

void jw_station_print_state(FILE *out, const char *payload, size_t len, int json)
{
	struct json_object *o = NULL, *status = NULL, *sys = NULL, *job = NULL;
	struct jw_json_error je;
	char cpu[16], gpu[16], mem[16], queue[16], temp[16];
	const char *id, *state, *since, *name, *js, *jj;

	if(json) {
		/* An empty message clears a retained view: nothing to print. */
		if(len) {
			fprintf(out, "%.*s\n", (int)len, payload);
		}
		return;
	}
	if(!len || jw_json_parse(payload, len, 64, &o, &je) || !o ||
	        !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return;
	}
	id = str_member(o, "station");
	state = str_member(o, "state");
	if(!id || !state) {
		json_object_put(o);
		return;
	}
	since = str_member(o, !strcmp(state, "online") ? "online_since" : "offline_since");
	json_object_object_get_ex(o, "status", &status);
	json_object_object_get_ex(o, "job", &job);
	if(status) {
		json_object_object_get_ex(status, "system", &sys);
	}
	name = str_member(status, "name");
	num_text(sys, "cpu_percent", "%", cpu, sizeof(cpu));
	num_text(sys, "gpu_percent", "%", gpu, sizeof(gpu));
	num_text(sys, "memory_percent", "%", mem, sizeof(mem));
	num_text(sys, "queue_length", "", queue, sizeof(queue));
	num_text(sys, "temperature_c", "C", temp, sizeof(temp));
	js = str_member(job, "session_id");
	jj = str_member(job, "job_id");
	/* Ids are [A-Za-z0-9._-]; the name is the station's text: no
	 * control characters reach the terminal. */
	fprintf(out, "%s %s since=%s cpu=%s gpu=%s mem=%s queue=%s temp=%s job=%s%s%s", id, state,
	        since ? since : "-", cpu, gpu, mem, queue, temp, js ? js : "-", js && jj ? "/" : "",
	        js && jj ? jj : "");
	if(name) {
		fputs(" name=\"", out);
		for(const char *p = name; *p; p++) {
			fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
		}
		fputs("\"", out);
	}
	fputs("\n", out);
	json_object_put(o);
}
