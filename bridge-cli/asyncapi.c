/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Builds jobwire's AsyncAPI 3.0 document from the schema set (see
 * asyncapi.h). The operations are a client's: "send" is a PUBLISH to the
 * broker, "receive" a subscription. QoS and retain are what the broker
 * uses for what it publishes itself (plugin/job_table.c, notice.c,
 * stats.c) and what docs/topics.md asks of workers.
 */
#include "asyncapi.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#define MQTT_BINDING_VERSION "0.2.0"

/* Collects out-of-memory while the document is built: every helper
 * takes the builder and becomes a no-op once it failed. */
struct builder {
	int failed;
};

static struct json_object *obj(struct builder *b)
{
	struct json_object *o = json_object_new_object();

	if(!o) {
		b->failed = 1;
	}
	return o;
}

/* Adds value (owned) to o under key; NULL value or o marks failure. */
static void put(
        struct builder *b, struct json_object *o, const char *key, struct json_object *value)
{
	if(!o || !value || json_object_object_add(o, key, value)) {
		json_object_put(value);
		b->failed = 1;
	}
}

static void put_str(struct builder *b, struct json_object *o, const char *key, const char *value)
{
	put(b, o, key, json_object_new_string(value));
}

static void put_int(struct builder *b, struct json_object *o, const char *key, int value)
{
	put(b, o, key, json_object_new_int(value));
}

/* {"$ref": "<printf of fmt>"} */
static struct json_object *ref(struct builder *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static struct json_object *ref(struct builder *b, const char *fmt, ...)
{
	char text[512];
	struct json_object *o = obj(b);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	put_str(b, o, "$ref", text);
	return o;
}

/* Rewrites every local "$ref" ("#..." ) under v to "#/components/schemas/<key>...". */
static void rewrite_refs(struct builder *b, struct json_object *v, const char *key)
{
	if(json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for(size_t i = 0; i < n; i++) {
			rewrite_refs(b, json_object_array_get_idx(v, i), key);
		}
		return;
	}
	if(!json_object_is_type(v, json_type_object)) {
		return;
	}
	json_object_object_foreach(v, k, child)
	{
		if(!strcmp(k, "$ref") && json_object_is_type(child, json_type_string)) {
			const char *r = json_object_get_string(child);

			if(r[0] == '#') {
				char text[1024];
				int n = snprintf(text, sizeof(text), "#/components/schemas/%s%s", key, r + 1);

				if(n < 0 || (size_t)n >= sizeof(text) || json_object_set_string(child, text) != 1) {
					b->failed = 1;
				}
			}
		} else {
			rewrite_refs(b, child, key);
		}
	}
}

/* A copy of schema for components/schemas/<key>: no $id or $schema (the
 * document is the resource now), references rewritten. */
static struct json_object *embed(struct builder *b, struct json_object *schema, const char *key)
{
	struct json_object *copy = NULL;

	if(!json_object_is_type(schema, json_type_object) ||
	        json_object_deep_copy(schema, &copy, NULL)) {
		b->failed = 1;
		return NULL;
	}
	json_object_object_del(copy, "$id");
	json_object_object_del(copy, "$schema");
	rewrite_refs(b, copy, key);
	return copy;
}

static const char *member_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if(o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)) {
		return json_object_get_string(v);
	}
	return NULL;
}

static struct json_object *mqtt_op_binding(struct builder *b, int qos, int retain)
{
	struct json_object *bindings = obj(b), *mqtt = obj(b);

	put_int(b, mqtt, "qos", qos);
	put(b, mqtt, "retain", json_object_new_boolean(retain));
	put_str(b, mqtt, "bindingVersion", MQTT_BINDING_VERSION);
	put(b, bindings, "mqtt", mqtt);
	return bindings;
}

static struct json_object *param(struct builder *b, const char *description, const char *example)
{
	struct json_object *p = obj(b), *ex = json_object_new_array();

	put_str(b, p, "description", description);
	if(!ex || json_object_array_add(ex, json_object_new_string(example))) {
		json_object_put(ex);
		b->failed = 1;
		return p;
	}
	put(b, p, "examples", ex);
	return p;
}

static const char id_rule[] = "1-128 characters of A-Z a-z 0-9 . _ -";

/* The job channel of one type: jobs/{session}/{job}/<type>. */
static struct json_object *job_channel(struct builder *b, const struct jw_asyncapi_opts *o,
        const char *type, const char *key, const char *description)
{
	struct json_object *ch = obj(b), *params = obj(b), *msgs = obj(b);
	char address[256], text[512];

	snprintf(address, sizeof(address), "%s/{session}/{job}/%s", o->prefix, type);
	put_str(b, ch, "address", address);
	put_str(b, ch, "description", description);
	snprintf(text, sizeof(text), "The session the job belongs to (%s).", id_rule);
	put(b, params, "session", param(b, text, "lab"));
	snprintf(text, sizeof(text), "The job (%s).", id_rule);
	put(b, params, "job", param(b, text, "job-1"));
	put(b, ch, "parameters", params);
	put(b, msgs, key, ref(b, "#/components/messages/%s", key));
	put(b, ch, "messages", msgs);
	return ch;
}

/* An operation on channel id with its one message. */
static void operation(struct builder *b, struct json_object *ops, const char *id,
        const char *action, const char *channel, const char *message, const char *summary, int qos,
        int retain)
{
	struct json_object *op = obj(b), *list = json_object_new_array();

	put_str(b, op, "action", action);
	put(b, op, "channel", ref(b, "#/channels/%s", channel));
	put_str(b, op, "summary", summary);
	if(!list ||
	        json_object_array_add(list, ref(b, "#/channels/%s/messages/%s", channel, message))) {
		json_object_put(list);
		b->failed = 1;
	} else {
		put(b, op, "messages", list);
	}
	put(b, op, "bindings", mqtt_op_binding(b, qos, retain));
	put(b, ops, id, op);
}

static struct json_object *message(struct builder *b, const char *name, const char *schema_key,
        struct json_object *schema, const char *fallback_summary)
{
	struct json_object *m = obj(b);
	const char *title = member_str(schema, "title");
	const char *description = member_str(schema, "description");

	put_str(b, m, "name", name);
	if(title) {
		put_str(b, m, "title", title);
	}
	put_str(b, m, "summary", description ? description : fallback_summary);
	put_str(b, m, "contentType", "application/json");
	put(b, m, "payload", ref(b, "#/components/schemas/%s", schema_key));
	return m;
}

/* $jobwire/stats has no schema file: its shape is in docs/topics.md. */
static struct json_object *stats_schema(struct builder *b)
{
	struct json_object *s = obj(b), *props = obj(b), *req = json_object_new_array();
	struct json_object *p;

	put_str(b, s, "type", "object");
	put_str(b, s, "description",
	        "Counters since the broker started, republished every "
	        "plugin_opt_stats_interval seconds; every member is described in docs/topics.md "
	        "(\"The stats topic\").");
	p = obj(b);
	put(b, p, "const", json_object_new_string("stats"));
	put(b, props, "type", p);
	p = obj(b);
	put_str(b, p, "type", "string");
	put_str(b, p, "format", "date-time");
	put(b, props, "ts", p);
	p = obj(b);
	put_str(b, p, "type", "integer");
	put_int(b, p, "minimum", 0);
	put(b, props, "uptime_s", p);
	const char *objects[] = {
	        "events", "jobs", "state", "persistence", "journal", "schemas", "auth"};
	for(size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		p = obj(b);
		put_str(b, p, "type", "object");
		put(b, props, objects[i], p);
	}
	put(b, s, "properties", props);
	if(!req || json_object_array_add(req, json_object_new_string("type")) ||
	        json_object_array_add(req, json_object_new_string("ts"))) {
		json_object_put(req);
		b->failed = 1;
	} else {
		put(b, s, "required", req);
	}
	return s;
}

/* The server's security: the JWT scheme. */
static void put_security(struct builder *b, struct json_object *server)
{
	struct json_object *sec = json_object_new_array();
	if(!sec || json_object_array_add(sec, ref(b, "#/components/securitySchemes/%s", "jwt"))) {
		json_object_put(sec);
		b->failed = 1;
	} else {
		put(b, server, "security", sec);
	}
}

/* One server; version NULL leaves protocolVersion out. */
static struct json_object *server(struct builder *b, const char *host, const char *protocol,
        const char *version, const char *title, const char *description)
{
	struct json_object *srv = obj(b);
	put_str(b, srv, "host", host);
	put_str(b, srv, "protocol", protocol);
	if(version) {
		put_str(b, srv, "protocolVersion", version);
	}
	put_str(b, srv, "title", title);
	put_str(b, srv, "description", description);
	put_security(b, srv);
	return srv;
}

static struct json_object *servers(struct builder *b, const struct jw_asyncapi_opts *o)
{
	struct json_object *all = obj(b);
	put(b, all, "mqtt",
	        server(b, o->tcp, "mqtt", "5", "MQTT over TCP",
	                "Workers and services: MQTT 5 (3.1.1 works too, without "
	                "PUBACK reason codes or response topics)."));
	put(b, all, "websocket",
	        server(b, o->ws, "ws", NULL, "MQTT over WebSocket",
	                "Browsers: MQTT over WebSocket (subprotocol \"mqtt\"); the "
	                "same port serves the dashboard's files (http_dir)."));
	return all;
}

static struct json_object *security_schemes(struct builder *b)
{
	struct json_object *all = obj(b), *jwt = obj(b);

	put_str(b, jwt, "type", "userPassword");
	put_str(b, jwt, "description",
	        "With plugin_opt_auth_jwt_* set, every client sends a JWT (HS256, RS256 or ES256) "
	        "as its MQTT password, with any username. Claims: exp (required), role (viewer, "
	        "observer, worker, station, edge or admin), sessions (a list of session ids, or "
	        "\"*\"), station (role station: the station it speaks for), sub; iss and aud "
	        "when the broker checks them. The role and sessions decide every subscribe, "
	        "delivery and publish (docs/topics.md, \"Who may do what with JWT on\"). Without "
	        "a key the broker's own password_file and acl_file apply.");
	put(b, all, "jwt", jwt);
	return all;
}

/* The document's info: title, version, what jobwire is, the licence. */
static struct json_object *info(struct builder *b, const struct jw_asyncapi_opts *o)
{
	struct json_object *info = obj(b), *license = obj(b);
	put_str(b, info, "title", "jobwire");
	put_str(b, info, "version", o->version);
	put_str(b, info, "description",
	        "Typed job events over MQTT, validated by the jobwire plugin inside Mosquitto. "
	        "Workers publish events on job topics; the broker checks each against its JSON "
	        "Schema (draft 2020-12) and delivers it, or refuses it and publishes a rejection "
	        "notice. It keeps every job's state (retained) and its counters on $jobwire/stats. "
	        "Operations are a client's: send is a PUBLISH to the broker, receive a "
	        "subscription. An event the broker refuses is never delivered; an MQTT 5 "
	        "publisher at QoS 1 gets PUBACK 0x87 and the notice on its response topic (or "
	        "its rejection topic). Generated by `jobwire asyncapi` from the broker's schemas.");
	put_str(b, license, "name", "EPL-2.0 OR BSD-3-Clause");
	put(b, info, "license", license);
	return info;
}

/* What the document is being filled with: its channels and operations,
 * and the components' messages and schemas. */
struct parts {
	struct json_object *channels, *ops, *messages, *schemas;
};

/* The channel and operations of one event type: state is the broker's,
 * control goes to the worker, every other type is a worker's event. */
static void add_event_type(struct builder *b, const struct jw_asyncapi_opts *o, struct parts *d,
        const char *type, struct json_object *schema)
{
	const char *desc = member_str(schema, "description");
	char text[512], id[128];

	put(b, d->schemas, type, embed(b, schema, type));
	put(b, d->messages, type, message(b, type, type, schema, type));
	if(!strcmp(type, "state")) {
		put(b, d->channels, type,
		        job_channel(b, o, type, type,
		                "The job's current state, published by the broker (retained, at "
		                "most plugin_opt_state_max_rate times a second; terminal and "
		                "validation-required changes at once). Clients may not publish here."));
		operation(b, d->ops, "receive_state", "receive", type, type,
		        "Follow jobs: the retained state arrives at once on subscribe.", 1, 1);
		return;
	}
	if(!strcmp(type, "station")) {
		struct json_object *ch = obj(b), *params = obj(b), *msgs = obj(b);

		put_str(b, ch, "address", "stations/{station}/status");
		put_str(b, ch, "description",
		        "A station's status (retained), checked against the station schema like every "
		        "event. The station's will says offline; the broker publishes an offline "
		        "status itself (broker_generated) when a station is not refreshed within "
		        "plugin_opt_station_timeout, and keeps stations/{station}/state (retained, "
		        "admin's and the station's) and each session's view of it, "
		        "stations/{station}/sessions/{session} (retained: that session only, the only "
		        "station topic other tokens read with JWT on; docs/topics.md, \"Stations\").");
		snprintf(text, sizeof(text), "The station (%s).", id_rule);
		put(b, params, "station", param(b, text, "scope-3"));
		put(b, ch, "parameters", params);
		put(b, msgs, type, ref(b, "#/components/messages/%s", type));
		put(b, ch, "messages", msgs);
		put(b, d->channels, type, ch);
		operation(b, d->ops, "send_station", "send", type, type,
		        "Publish a station's status (retained; with a will that says offline).", 1, 1);
		operation(b, d->ops, "receive_station", "receive", type, type,
		        "Follow stations (admin, or JWT off): the retained status arrives at once on "
		        "subscribe.",
		        1, 1);
		return;
	}
	if(!strcmp(type, "control")) {
		put(b, d->channels, type,
		        job_channel(b, o, type, type, desc ? desc : "Requests to the job's worker."));
		operation(b, d->ops, "send_control", "send", type, type,
		        "Ask the worker to act on the job (the dashboard's Cancel).", 1, 0);
		operation(b, d->ops, "receive_control", "receive", type, type,
		        "Workers: act on requests for the jobs they run.", 1, 0);
		return;
	}
	snprintf(text, sizeof(text), "The %s event of a job. %s", type, desc ? desc : "");
	put(b, d->channels, type, job_channel(b, o, type, type, text));
	snprintf(id, sizeof(id), "send_%s", type);
	snprintf(text, sizeof(text),
	        "Publish a %s event (checked against its schema; "
	        "terminal events at QoS 1 or 2).",
	        type);
	operation(b, d->ops, id, "send", type, type, text, 1, 0);
	snprintf(id, sizeof(id), "receive_%s", type);
	snprintf(text, sizeof(text), "Receive %s events that passed the checks.", type);
	operation(b, d->ops, id, "receive", type, type, text, 1, 0);
}

/* Rejection notices: $jobwire/rejections/{client id}. */
static void add_rejections(struct builder *b, struct parts *d, struct json_object *rejection)
{
	if(rejection) {
		put(b, d->schemas, "jobwire.rejection", embed(b, rejection, "jobwire.rejection"));
	} else {
		struct json_object *s = obj(b);
		put_str(b, s, "type", "object");
		put(b, d->schemas, "jobwire.rejection", s);
	}
	put(b, d->messages, "jobwire.rejection",
	        message(b, "rejected", "jobwire.rejection", rejection, "A refused event and why."));
	struct json_object *ch = obj(b), *params = obj(b), *msgs = obj(b);
	put_str(b, ch, "address", "$jobwire/rejections/{clientId}");
	put_str(b, ch, "description",
	        "Why the broker refused an event, for the client that published it (not "
	        "retained). A $ topic: '#' never matches it. An MQTT 5 publisher's notice goes "
	        "to its response topic instead when the broker allows that topic (e.g. "
	        "$jobwire/replies/{clientId}/...), with its correlation data.");
	put(b, params, "clientId",
	        param(b,
	                "The publisher's client id, with / + # % and control "
	                "characters percent-encoded (%XX).",
	                "worker-1"));
	put(b, ch, "parameters", params);
	put(b, msgs, "rejected", ref(b, "#/components/messages/%s", "jobwire.rejection"));
	put(b, ch, "messages", msgs);
	put(b, d->channels, "jobwire.rejections", ch);
	operation(b, d->ops, "receive_rejections", "receive", "jobwire.rejections", "rejected",
	        "Learn why an event was refused (subscribe before publishing).", 1, 0);
}

/* History requests ($jobwire/history/{session}/{job}, MQTT 5
 * request/response) and their answers. */
static void add_history(struct builder *b, struct parts *d, struct json_object *history)
{
	struct json_object *any = obj(b), *ch = obj(b), *params = obj(b), *msgs = obj(b);
	struct json_object *rch = obj(b), *rparams = obj(b), *rmsgs = obj(b);

	if(history) {
		put(b, d->schemas, "jobwire.history", embed(b, history, "jobwire.history"));
	} else {
		struct json_object *s = obj(b);
		put_str(b, s, "type", "object");
		put(b, d->schemas, "jobwire.history", s);
	}
	put_str(b, any, "description", "Ignored: send it empty.");
	put(b, d->schemas, "jobwire.history_request", any);
	put(b, d->messages, "jobwire.history_request",
	        message(b, "history_request", "jobwire.history_request", NULL,
	                "Ask for a job's events. MQTT 5 only: set a response topic and "
	                "correlation data."));
	put(b, d->messages, "jobwire.history",
	        message(b, "history", "jobwire.history", history,
	                "A job's events in order, all attempts, or why not."));
	put_str(b, ch, "address", "$jobwire/history/{session}/{job}");
	put_str(b, ch, "description",
	        "The one $jobwire topic a client publishes to (QoS 0 or 1, never retained): "
	        "the broker answers on the request's response topic, with its correlation data, "
	        "and delivers the request to nobody. With JWT on, the token must be allowed to "
	        "read the job's state (docs/topics.md, \"History\").");
	put(b, params, "session", param(b, "Session id (the id rule).", "demo-session"));
	put(b, params, "job", param(b, "Job id (the id rule).", "job-1"));
	put(b, ch, "parameters", params);
	put(b, msgs, "history_request", ref(b, "#/components/messages/%s", "jobwire.history_request"));
	put(b, ch, "messages", msgs);
	put(b, d->channels, "jobwire.history", ch);
	operation(b, d->ops, "send_history_request", "send", "jobwire.history", "history_request",
	        "Ask for a job's history (MQTT 5, with a response topic).", 1, 0);
	put_str(b, rch, "address", "$jobwire/replies/{clientId}/history");
	put_str(b, rch, "description",
	        "Where answers go: the request's response topic, which must be one the asker may "
	        "read and not the broker's own; a client's own $jobwire/replies/{clientId}/... "
	        "always qualifies. Requests without a usable response topic are answered here. "
	        "Not retained.");
	put(b, rparams, "clientId",
	        param(b,
	                "The asker's client id, with / + # % and control characters "
	                "percent-encoded (%XX).",
	                "dash-1"));
	put(b, rch, "parameters", rparams);
	put(b, rmsgs, "history", ref(b, "#/components/messages/%s", "jobwire.history"));
	put(b, rch, "messages", rmsgs);
	put(b, d->channels, "jobwire.history_replies", rch);
	operation(b, d->ops, "receive_history", "receive", "jobwire.history_replies", "history",
	        "Receive the answer to a history request.", 1, 0);
}

/* Stats: $jobwire/stats, retained. */
static void add_stats(struct builder *b, struct parts *d)
{
	put(b, d->schemas, "jobwire.stats", stats_schema(b));
	put(b, d->messages, "jobwire.stats",
	        message(b, "stats", "jobwire.stats", NULL, "The broker's counters."));
	struct json_object *ch = obj(b), *msgs = obj(b);
	put_str(b, ch, "address", "$jobwire/stats");
	put_str(b, ch, "description",
	        "The broker's counters (retained; admin tokens only with JWT on). "
	        "`jobwire metrics` serves them to Prometheus.");
	put(b, msgs, "stats", ref(b, "#/components/messages/%s", "jobwire.stats"));
	put(b, ch, "messages", msgs);
	put(b, d->channels, "jobwire.stats", ch);
	operation(b, d->ops, "receive_stats", "receive", "jobwire.stats", "stats",
	        "Monitor the broker.", 0, 1);
}

int jw_asyncapi_build(const struct jw_asyncapi_opts *o, const struct jw_asyncapi_input *in,
        struct json_object **out, char *err, size_t errlen)
{
	struct builder bb = {0}, *b = &bb;
	struct json_object *doc = obj(b), *components = obj(b);
	struct parts d = {obj(b), obj(b), obj(b), obj(b)};

	*out = NULL;
	put_str(b, doc, "asyncapi", "3.0.0");
	put(b, doc, "info", info(b, o));
	put_str(b, doc, "defaultContentType", "application/json");
	put(b, doc, "servers", servers(b, o));
	for(size_t i = 0; i < in->ntypes && !b->failed; i++) {
		add_event_type(b, o, &d, in->types[i], in->schemas[i]);
	}
	add_rejections(b, &d, in->rejection);
	add_history(b, &d, in->history);
	add_stats(b, &d);

	put(b, doc, "channels", d.channels);
	put(b, doc, "operations", d.ops);
	put(b, components, "schemas", d.schemas);
	put(b, components, "messages", d.messages);
	put(b, components, "securitySchemes", security_schemes(b));
	put(b, doc, "components", components);
	if(b->failed) {
		json_object_put(doc);
		snprintf(err, errlen,
		        "cannot build the document: out of memory or a schema file that "
		        "is not a JSON object");
		return -1;
	}
	*out = doc;
	return 0;
}
