/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Legacy progress feed -> jobwire events (see legacy.h). Each family of
 * formats has one function; fields are looked up under the names the
 * legacy designs used, and a message that lacks what a jobwire event
 * needs is reported, not completed with invented values.
 */
#include "legacy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "args.h"
#include "json.h"

/* Jobs remembered for item counts and last progress; the oldest entry is
 * reused when full (a bridge sees few jobs at once). */
#define JW_LEGACY_JOBS 1024

struct job_memo {
	char session[JW_ID_MAX + 1];
	char job[JW_ID_MAX + 1];
	double progress;  /* last overall percent seen, -1 when none */
	long items_added; /* variant updates counted */
	unsigned long used;
};

struct jw_legacy {
	char session[JW_ID_MAX + 1];
	struct job_memo jobs[JW_LEGACY_JOBS];
	unsigned long clock;
};

struct jw_legacy *jw_legacy_new(const char *default_session)
{
	if(!default_session || !jw_topic_id_valid(default_session)) {
		return NULL;
	}
	struct jw_legacy *lg = calloc(1, sizeof(*lg));
	if(lg) {
		snprintf(lg->session, sizeof(lg->session), "%s", default_session);
	}
	return lg;
}

void jw_legacy_free(struct jw_legacy *lg)
{
	free(lg);
}

void jw_legacy_event_cleanup(struct jw_legacy_event *ev)
{
	free(ev->payload);
	ev->payload = NULL;
}

static struct job_memo *memo(struct jw_legacy *lg, const char *session, const char *job)
{
	struct job_memo *free_slot = NULL, *oldest = &lg->jobs[0];
	for(size_t i = 0; i < JW_LEGACY_JOBS; i++) {
		struct job_memo *m = &lg->jobs[i];
		if(m->job[0] == '\0') {
			if(!free_slot) {
				free_slot = m;
			}
			continue;
		}
		if(!strcmp(m->job, job) && !strcmp(m->session, session)) {
			m->used = ++lg->clock;
			return m;
		}
		if(m->used < oldest->used) {
			oldest = m;
		}
	}
	struct job_memo *m = free_slot ? free_slot : oldest;
	memset(m, 0, sizeof(*m));
	snprintf(m->session, sizeof(m->session), "%s", session);
	snprintf(m->job, sizeof(m->job), "%s", job);
	m->progress = -1;
	m->used = ++lg->clock;
	return m;
}

static void forget(struct jw_legacy *lg, const char *session, const char *job)
{
	struct job_memo *m = memo(lg, session, job);
	memset(m, 0, sizeof(*m));
}

/* ---- field lookup ------------------------------------------------------ */

/* The first member of o named in names (NULL-terminated) that is not null. */
static struct json_object *member(struct json_object *o, const char *const *names)
{
	struct json_object *v;
	for(; o && *names; names++) {
		if(json_object_object_get_ex(o, *names, &v) && v) {
			return v;
		}
	}
	return NULL;
}

static const char *str_member(struct json_object *o, const char *const *names)
{
	struct json_object *v = member(o, names);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* 1 with *out when the member is a JSON number, 0 when absent, -1 when it
 * is there but not a number. */
static int num_member(struct json_object *o, const char *const *names, double *out)
{
	struct json_object *v = member(o, names);
	if(!v) {
		return 0;
	}
	if(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return isfinite(*out) ? 1 : -1;
	}
	return -1;
}

/* An id member: a string, or a non-negative integer written in decimal. */
static int id_member(struct json_object *o, const char *const *names, char *out, size_t cap,
        char *why, size_t whylen, const char *what)
{
	struct json_object *v = member(o, names);
	if(!v) {
		return 0;
	}
	if(json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
		snprintf(out, cap, "%lld", (long long)json_object_get_int64(v));
	} else if(json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if(!jw_topic_id_valid(s)) {
			snprintf(why, whylen,
			        "%s \"%.60s\" is not a valid jobwire id (1-128 of A-Z a-z 0-9 . _ -)", what, s);
			return -1;
		}
		snprintf(out, cap, "%s", s);
	} else {
		snprintf(why, whylen, "%s is neither a string nor a whole number", what);
		return -1;
	}
	return 1;
}

static void add_str(struct json_object *o, const char *key, const char *s, size_t max)
{
	if(!s || !*s) {
		return;
	}
	size_t n = strlen(s);
	if(n > max) {
		/* Cut on a UTF-8 boundary: the schemas count characters, and a
		 * byte cap keeps us below that. */
		n = max;
		while(n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
			n--;
		}
	}
	json_object_object_add(o, key, json_object_new_string_len(s, (int)n));
}

static int finish(struct json_object *o, struct jw_legacy_event *ev, const char *session,
        const char *job, const char *type, char *why, size_t whylen)
{
	const char *text = json_object_to_json_string_ext(
	        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	ev->payload = text ? strdup(text) : NULL;
	json_object_put(o);
	if(!ev->payload) {
		snprintf(why, whylen, "out of memory");
		return JW_LEGACY_UNMAPPED;
	}
	snprintf(ev->session, sizeof(ev->session), "%s", session);
	snprintf(ev->job, sizeof(ev->job), "%s", job);
	snprintf(ev->type, sizeof(ev->type), "%s", type);
	return JW_LEGACY_EVENT;
}

static const char *const K_SESSION[] = {"session_id", "session", NULL};
static const char *const K_MESSAGE[] = {"message", "current_operation", "status_message", NULL};
static const char *const K_STEP[] = {
        "current_step", "step", "stage", "phase", "current_phase", NULL};
static const char *const K_PERCENT[] = {
        "progress", "progress_percentage", "percent", "percentage", NULL};
static const char *const K_CURRENT[] = {"current_item", "current", NULL};
static const char *const K_TOTAL[] = {"total_items", "total", NULL};
static const char *const K_ERROR[] = {"error", "error_message", NULL};
static const char *const K_NAME[] = {"name", "title", "operation_name", NULL};

/* An integral count a >= 0 as a JSON number: an integer when it fits int64
 * (converting a larger double to int64 is undefined), else the double. */
static struct json_object *count_number(double a)
{
	if(a < 9223372036854775808.0) {
		return json_object_new_int64((int64_t)a);
	}
	return jw_json_number(a);
}

/* Builds a progress event from o's figures. Returns the result code. */
static int map_progress(struct jw_legacy *lg, struct json_object *o, const char *session,
        const char *job, struct jw_legacy_event *ev, char *why, size_t whylen)
{
	double pct = 0, cur = 0, tot = 0;
	int hp = num_member(o, K_PERCENT, &pct);
	int hc = num_member(o, K_CURRENT, &cur);
	int ht = num_member(o, K_TOTAL, &tot);
	if(hp < 0 || hc < 0 || ht < 0) {
		snprintf(why, whylen, "a progress figure is not a number");
		return JW_LEGACY_UNMAPPED;
	}
	if(hp && (pct < 0 || pct > 100)) {
		snprintf(why, whylen, "progress %g is outside 0-100", pct);
		return JW_LEGACY_UNMAPPED;
	}
	int counts = hc && ht && tot > 0 && cur >= 0 && cur <= tot;
	struct json_object *out = json_object_new_object();
	if(!hp && !counts) {
		/* Alive but without figures: say so with a heartbeat. */
		return finish(out, ev, session, job, "heartbeat", why, whylen);
	}
	if(hp) {
		json_object_object_add(out, "progress", jw_json_number(pct));
	}
	if(counts) {
		json_object_object_add(out, "current", jw_json_number(cur));
		json_object_object_add(out, "total", jw_json_number(tot));
	}
	add_str(out, "step", str_member(o, K_STEP), 200);
	add_str(out, "message", str_member(o, K_MESSAGE), 1000);
	static const char *const k_added[] = {"items_added", NULL};
	static const char *const k_failed[] = {"items_failed", NULL};
	double a;
	if(num_member(o, k_added, &a) == 1 && a >= 0 && a == floor(a)) {
		json_object_object_add(out, "items_added", count_number(a));
	}
	if(num_member(o, k_failed, &a) == 1 && a >= 0 && a == floor(a)) {
		json_object_object_add(out, "items_failed", count_number(a));
	}
	static const char *const k_eta[] = {"eta_s", "eta", "eta_seconds", NULL};
	if(num_member(o, k_eta, &a) == 1 && a >= 0) {
		json_object_object_add(out, "eta_s", jw_json_number(a));
	}
	memo(lg, session, job)->progress = hp ? pct : 100.0 * cur / tot;
	return finish(out, ev, session, job, "progress", why, whylen);
}

static int map_complete(struct jw_legacy *lg, struct json_object *o, const char *session,
        const char *job, struct jw_legacy_event *ev, char *why, size_t whylen)
{
	struct json_object *out = json_object_new_object();
	static const char *const k_result[] = {"result", "results", NULL};
	struct json_object *r = member(o, k_result);
	if(r && json_object_is_type(r, json_type_object)) {
		json_object_object_add(out, "result", json_object_get(r));
	}
	static const char *const k_msg[] = {"message", NULL};
	add_str(out, "message", str_member(o, k_msg), 1000);
	static const char *const k_dur[] = {"duration_s", "duration", "processing_time", NULL};
	double d;
	if(num_member(o, k_dur, &d) == 1 && d >= 0) {
		json_object_object_add(out, "duration_s", jw_json_number(d));
	}
	forget(lg, session, job);
	return finish(out, ev, session, job, "complete", why, whylen);
}

static int map_failed(struct jw_legacy *lg, struct json_object *o, const char *session,
        const char *job, struct jw_legacy_event *ev, char *why, size_t whylen)
{
	const char *err = str_member(o, K_ERROR);
	static const char *const k_msg[] = {"message", NULL};
	if(!err || !*err) {
		err = str_member(o, k_msg);
	}
	struct json_object *out = json_object_new_object();
	add_str(out, "error", err && *err ? err : "failed (the legacy feed gave no error message)",
	        2000);
	static const char *const k_retry[] = {"retryable", "can_retry", NULL};
	struct json_object *r = member(o, k_retry);
	if(r && json_object_is_type(r, json_type_boolean)) {
		json_object_object_add(
		        out, "retryable", json_object_new_boolean(json_object_get_boolean(r)));
	}
	forget(lg, session, job);
	return finish(out, ev, session, job, "failed", why, whylen);
}

/* By status word: running -> progress, completed -> complete, failed -> failed. */
static int map_by_status(struct jw_legacy *lg, struct json_object *o, const char *status,
        const char *session, const char *job, struct jw_legacy_event *ev, char *why, size_t whylen)
{
	if(!status || !strcmp(status, "running") || !strcmp(status, "in_progress") ||
	        !strcmp(status, "processing")) {
		return map_progress(lg, o, session, job, ev, why, whylen);
	}
	if(!strcmp(status, "completed") || !strcmp(status, "complete") || !strcmp(status, "success") ||
	        !strcmp(status, "succeeded") || !strcmp(status, "done")) {
		return map_complete(lg, o, session, job, ev, why, whylen);
	}
	if(!strcmp(status, "failed") || !strcmp(status, "error")) {
		return map_failed(lg, o, session, job, ev, why, whylen);
	}
	snprintf(why, whylen, "status \"%.40s\" has no jobwire event", status);
	return JW_LEGACY_UNMAPPED;
}

/* Normalises "ProcessingProgress" / "processing-progress" to
 * "processing_progress". */
static void snake(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for(size_t i = 0; in[i] && n + 2 < cap; i++) {
		char c = in[i];
		if(c >= 'A' && c <= 'Z') {
			if(i > 0 && n > 0 && out[n - 1] != '_') {
				out[n++] = '_';
			}
			c = (char)(c - 'A' + 'a');
		} else if(c == '-' || c == '.' || c == ' ') {
			c = '_';
		}
		out[n++] = c;
	}
	out[n] = '\0';
}

/* The message's type in snake case into type. Returns 1 to map it, or 0
 * with why and *res (ignored or unmapped). */
static int read_type(struct json_object *root, char *type, size_t cap, const char **rawtype,
        enum jw_legacy_result *res, char *why, size_t whylen)
{
	static const char *const k_type[] = {"type", "event_type", "event", NULL};
	*rawtype = str_member(root, k_type);
	if(!*rawtype) {
		snprintf(why, whylen, "no \"type\" member");
		return 0;
	}
	snake(*rawtype, type, cap);

	/* Messages about the connection, not about a job. */
	static const char *const ignored[] = {"connected", "connection_ack", "heartbeat", "ping",
	        "pong", "stats_updated", "refresh_needed", "studies_update", NULL};
	for(const char *const *p = ignored; *p; p++) {
		if(!strcmp(type, *p)) {
			snprintf(why, whylen, "\"%.40s\" is a connection message, not a job event", *rawtype);
			*res = JW_LEGACY_IGNORED;
			return 0;
		}
	}

	/* Record CRUD feeds (PEARL's study_created/updated/deleted) carry ids,
	 * but no job runs: nothing to map. */
	if(!strncmp(type, "study_", 6)) {
		snprintf(why, whylen, "\"%.40s\" is not about a job", *rawtype);
		return 0;
	}
	return 1;
}

/* Where the job's fields live: "data" (progress_update), "job" (job_*),
 * or the message itself. */
static struct json_object *job_body(struct json_object *root)
{
	struct json_object *v;
	if(json_object_object_get_ex(root, "data", &v) && v &&
	        json_object_is_type(v, json_type_object)) {
		return v;
	}
	if(json_object_object_get_ex(root, "job", &v) && v &&
	        json_object_is_type(v, json_type_object)) {
		return v;
	}
	return root;
}

/* The session id (the default unless the message names one) and the job
 * id, from the body first, then the message. 0, or -1 with why. */
static int read_ids(const struct jw_legacy *lg, struct json_object *root, struct json_object *body,
        const char *type, const char *rawtype, int is_op, char *session, char *job, char *why,
        size_t whylen)
{
	snprintf(session, JW_ID_MAX + 1, "%s", lg->session);
	int r = id_member(body, K_SESSION, session, JW_ID_MAX + 1, why, whylen, "session id");
	if(r == 0 && body != root) {
		r = id_member(root, K_SESSION, session, JW_ID_MAX + 1, why, whylen, "session id");
	}
	if(r < 0) {
		return -1;
	}
	static const char *const k_job_op[] = {"operation_name", "job_id", "id", NULL};
	static const char *const k_job[] = {"job_id", "image_id", "analysis_id", "task_id", "id", NULL};
	r = id_member(body, is_op ? k_job_op : k_job, job, JW_ID_MAX + 1, why, whylen, "job id");
	if(r == 0 && body != root) {
		r = id_member(root, k_job, job, JW_ID_MAX + 1, why, whylen, "job id");
	}
	if(r < 0) {
		return -1;
	}
	if(r == 0) {
		if(!strncmp(type, "study_", 6) || !strcmp(type, "system_status") ||
		        !strcmp(type, "error")) {
			snprintf(why, whylen, "\"%.40s\" is not about a job", rawtype);
		} else {
			snprintf(why, whylen,
			        "\"%.40s\" message names no job (no job_id, operation_name, image_id or id)",
			        rawtype);
		}
		return -1;
	}
	return 0;
}

/* Arti's variant_update: one annotated variant. Counted as an item added;
 * the job's progress stays what it was. */
static enum jw_legacy_result map_variant(struct jw_legacy *lg, struct json_object *root,
        const char *session, const char *job, struct jw_legacy_event *ev, char *why, size_t whylen)
{
	struct job_memo *m = memo(lg, session, job);
	m->items_added++;
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "progress", jw_json_number(m->progress < 0 ? 0 : m->progress));
	json_object_object_add(out, "items_added", json_object_new_int64(m->items_added));
	struct json_object *var = NULL;
	json_object_object_get_ex(root, "variant", &var);
	if(var && json_object_is_type(var, json_type_object)) {
		char text[300];
		static const char *const k_chr[] = {"chromosome", NULL},
		                         *const k_pos[] = {"position", NULL},
		                         *const k_tier[] = {"amp_tier", NULL},
		                         *const k_vid[] = {"variant_id", "id", NULL};
		struct json_object *vid = member(var, k_vid), *pos = member(var, k_pos);
		const char *chr = str_member(var, k_chr), *tier = str_member(var, k_tier);
		snprintf(text, sizeof(text), "variant %s%s%s%s%s%s%s",
		        vid ? json_object_get_string(vid) : "?", chr ? " " : "", chr ? chr : "",
		        pos && chr ? ":" : "", pos && chr ? json_object_get_string(pos) : "",
		        tier ? " " : "", tier ? tier : "");
		add_str(out, "message", text, 1000);
	}
	return finish(out, ev, session, job, "progress", why, whylen);
}

static enum jw_legacy_result map_started(struct json_object *body, const char *session,
        const char *job, struct jw_legacy_event *ev, char *why, size_t whylen)
{
	struct json_object *out = json_object_new_object();
	add_str(out, "name", str_member(body, K_NAME), 200);
	double tot;
	if(num_member(body, K_TOTAL, &tot) == 1 && tot >= 0) {
		json_object_object_add(out, "total", jw_json_number(tot));
	}
	return finish(out, ev, session, job, "started", why, whylen);
}

static enum jw_legacy_result map_validation(struct json_object *body, const char *session,
        const char *job, struct jw_legacy_event *ev, char *why, size_t whylen)
{
	static const char *const k_conf[] = {"confidence", "confidence_score", NULL};
	static const char *const k_thr[] = {"threshold", NULL};
	static const char *const k_reason[] = {"reason", "message", NULL};
	double c, t;
	if(num_member(body, k_conf, &c) != 1 || c < 0 || c > 1) {
		snprintf(why, whylen, "ValidationRequired needs a confidence between 0 and 1");
		return JW_LEGACY_UNMAPPED;
	}
	const char *reason = str_member(body, k_reason);
	struct json_object *out = json_object_new_object();
	add_str(out, "reason", reason && *reason ? reason : "low confidence", 1000);
	json_object_object_add(out, "confidence", jw_json_number(c));
	if(num_member(body, k_thr, &t) == 1 && t >= 0 && t <= 1) {
		json_object_object_add(out, "threshold", jw_json_number(t));
	}
	return finish(out, ev, session, job, "validation-required", why, whylen);
}

/* Per-job system load: a heartbeat with the figures it has. */
static enum jw_legacy_result map_system(struct json_object *body, const char *session,
        const char *job, struct jw_legacy_event *ev, char *why, size_t whylen)
{
	struct json_object *sys = json_object_new_object();
	static const struct {
		const char *key;
		const char *const names[3];
	} k[] = {
	        {"cpu_percent", {"cpu_percent", "cpu_usage", NULL}},
	        {"memory_percent", {"memory_percent", "memory_usage", NULL}},
	        {"gpu_percent", {"gpu_percent", "gpu_usage", NULL}},
	};
	for(size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		double x;
		if(num_member(body, k[i].names, &x) == 1 && x >= 0 && x <= 100) {
			json_object_object_add(sys, k[i].key, jw_json_number(x));
		}
	}
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "system", sys);
	return finish(out, ev, session, job, "heartbeat", why, whylen);
}

/* kidney-genetics ProgressTracker: {"type":"progress_update","data":{...}};
 * its status words are running / completed / failed. */
static int is_tracker_type(const char *type)
{
	return !strcmp(type, "progress_update") || !strcmp(type, "task_completed") ||
	       !strcmp(type, "task_failed");
}

/* Maps by the (snake case) type once the ids are known. */
static enum jw_legacy_result map_by_type(struct jw_legacy *lg, struct json_object *root,
        struct json_object *body, const char *type, const char *rawtype, const char *session,
        const char *job, struct jw_legacy_event *ev, char *why, size_t whylen)
{
	static const char *const k_status[] = {"status", NULL};
	const char *status = str_member(body, k_status);

	if(is_tracker_type(type)) {
		if(!strcmp(type, "task_completed")) {
			status = "completed";
		} else if(!strcmp(type, "task_failed")) {
			status = "failed";
		}
		return map_by_status(lg, body, status, session, job, ev, why, whylen);
	}
	if(!strcmp(type, "progress")) {
		return map_by_status(lg, body, status, session, job, ev, why, whylen);
	}
	if(!strcmp(type, "variant_update")) {
		return map_variant(lg, root, session, job, ev, why, whylen);
	}
	if(!strcmp(type, "processing_started") || !strcmp(type, "job_created") ||
	        !strcmp(type, "job_started")) {
		return map_started(body, session, job, ev, why, whylen);
	}
	if(!strcmp(type, "processing_progress")) {
		return map_progress(lg, body, session, job, ev, why, whylen);
	}
	if(!strcmp(type, "processing_complete") || !strcmp(type, "processing_completed") ||
	        !strcmp(type, "job_completed")) {
		return map_complete(lg, body, session, job, ev, why, whylen);
	}
	if(!strcmp(type, "processing_failed") || !strcmp(type, "job_failed")) {
		return map_failed(lg, body, session, job, ev, why, whylen);
	}
	if(!strcmp(type, "job_updated")) {
		/* Seed 004 statuses: pending, in_progress, completed, failed. */
		if(status && (!strcmp(status, "pending") || !strcmp(status, "queued"))) {
			return finish(json_object_new_object(), ev, session, job, "heartbeat", why, whylen);
		}
		return map_by_status(lg, body, status, session, job, ev, why, whylen);
	}
	if(!strcmp(type, "validation_required")) {
		return map_validation(body, session, job, ev, why, whylen);
	}
	if(!strcmp(type, "system_status")) {
		return map_system(body, session, job, ev, why, whylen);
	}
	snprintf(why, whylen, "unknown message type \"%.40s\"", rawtype);
	return JW_LEGACY_UNMAPPED;
}

enum jw_legacy_result jw_legacy_map(struct jw_legacy *lg, const char *msg, size_t len,
        struct jw_legacy_event *ev, char *why, size_t whylen)
{
	memset(ev, 0, sizeof(*ev));
	why[0] = '\0';
	struct json_object *root = NULL;
	struct jw_json_error je;
	if(jw_json_parse(msg, len, 32, &root, &je)) {
		snprintf(why, whylen, "not JSON: %s", je.message);
		return JW_LEGACY_UNMAPPED;
	}
	enum jw_legacy_result res = JW_LEGACY_UNMAPPED;
	char type[64], session[JW_ID_MAX + 1], job[JW_ID_MAX + 1];
	const char *rawtype;
	if(!root || !json_object_is_type(root, json_type_object)) {
		snprintf(why, whylen, "not a JSON object");
		goto out;
	}
	if(!read_type(root, type, sizeof(type), &rawtype, &res, why, whylen)) {
		goto out;
	}
	struct json_object *body = job_body(root);
	if(read_ids(lg, root, body, type, rawtype, is_tracker_type(type), session, job, why, whylen)) {
		goto out;
	}
	res = map_by_type(lg, root, body, type, rawtype, session, job, ev, why, whylen);
out:
	json_object_put(root);
	return res;
}
