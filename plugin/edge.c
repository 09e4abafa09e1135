/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * plugin_opt_mode edge: a broker that serves browsers with what a core
 * broker accepted, brought in by a stock mosquitto bridge. It checks no
 * event and keeps no job: JWT authentication and the session ACL for its
 * own clients, and one rule for them on top: they never publish job
 * events, state or station topics (only the bridge brings those in), and
 * what they may send out to the core (control, history requests) is
 * never delivered here before the core has taken it. docs/operations.md,
 * "Scaling"; docs/design.md, "Edge brokers". Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>
#include <string.h>

#include "broker_api.h"

#include "props.h"
#include "stations.h"
#include "topic.h"

/* What a topic is to an edge. */
enum edge_topic {
	EDGE_OTHER = 0, /* not jobwire's: the session ACL or the fallback decides */
	EDGE_CONTROL,   /* {prefix}/S/J/control: out to the core */
	EDGE_HISTORY,   /* $jobwire/history/...: out to the core */
	EDGE_CORE,      /* anything else under {prefix}/ or stations/, and
	                   $jobwire/ but the client's own answers: the core's */
};

static bool first_level_is(const char *topic, const char *level)
{
	size_t n = strlen(level);

	return !strncmp(topic, level, n) && (topic[n] == '\0' || topic[n] == '/');
}

/* Whether topic is {prefix}/{session}/{job}/control with valid ids. */
static bool is_control(const char *prefix, const char *topic)
{
	const char *s = topic + strlen(prefix) + 1;
	const char *j = strchr(s, '/');
	const char *e = j ? strchr(j + 1, '/') : NULL;

	return j && e && !strcmp(e + 1, "control") && jw_id_valid(s, (size_t)(j - s)) &&
	       jw_id_valid(j + 1, (size_t)(e - j - 1));
}

static enum edge_topic classify(const struct jw_plugin *p, const char *topic)
{
	if(first_level_is(topic, p->opt.prefix)) {
		return is_control(p->opt.prefix, topic) ? EDGE_CONTROL : EDGE_CORE;
	}
	if(first_level_is(topic, JW_STATIONS_PREFIX)) {
		return EDGE_CORE;
	}
	if(topic[0] == '$') {
		if(jw_topic_is_history_request(topic)) {
			return EDGE_HISTORY;
		}
		if(first_level_is(topic, JW_SYS_PREFIX)) {
			return EDGE_CORE;
		}
	}
	return EDGE_OTHER;
}

/*
 * With JWT on, a history request goes out only for a session the token
 * may read; the core checks the bridge's token, which may read them all.
 * A topic that is not $jobwire/history/{session}/{job} names no session
 * to check, so it stays here.
 */
static bool history_allowed(struct jw_plugin *p, const struct mosquitto *client, const char *topic)
{
	const char *s = topic + sizeof(JW_HISTORY_PREFIX) - 1;
	const char *j = strchr(s, '/');
	char job_topic[256 + JW_ID_MAX * 2];
	int n;

	if(!p->auth) {
		return true;
	}
	if(!j || !jw_id_valid(s, (size_t)(j - s)) || !jw_id_valid(j + 1, strlen(j + 1))) {
		return false;
	}
	n = snprintf(job_topic, sizeof(job_topic), "%s/%.*s/%s/state", p->opt.prefix, (int)(j - s), s,
	        j + 1);
	return n > 0 && (size_t)n < sizeof(job_topic) && jw_auth__may_read(p, client, job_topic);
}

/*
 * Every access check on an edge is a local client's: mosquitto answers a
 * bridge's checks itself, without asking any plugin (src/security.c,
 * mosquitto_acl_check: "if(context->bridge) return MOSQ_ERR_SUCCESS"), so
 * what the bridge brings in from the core and sends out to it never
 * reaches this function. That is how the edge tells the two apart; no
 * client id is looked at.
 */
static int on_acl_check(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct mosquitto_evt_acl_check *ed = event_data;
	int fallback = p->acl_allow ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
	enum edge_topic kind;

	(void)event;
	if(ed->access == MOSQ_ACL_SUBSCRIBE || ed->access == MOSQ_ACL_UNSUBSCRIBE) {
		return p->auth ? jw_auth__acl_check(p, ed) : fallback;
	}
	if(!ed->topic) {
		return MOSQ_ERR_ACL_DENIED;
	}
	kind = classify(p, ed->topic);
	if(ed->access == MOSQ_ACL_READ) {
		/* A local client's control or history request would reach the
		 * local subscribers before the core has checked it; the core's
		 * own answers to them come back as state and replies. */
		if(kind == EDGE_CONTROL || kind == EDGE_HISTORY) {
			return MOSQ_ERR_ACL_DENIED;
		}
		return p->auth ? jw_auth__acl_check(p, ed) : fallback;
	}
	/* A write: a PUBLISH or a will of a local client. */
	if(p->auth && jw_auth__acl_check(p, ed) != MOSQ_ERR_SUCCESS) {
		return MOSQ_ERR_ACL_DENIED;
	}
	switch(kind) {
		case EDGE_CORE:
			return MOSQ_ERR_ACL_DENIED;
		case EDGE_CONTROL:
			/* The core refuses a retained control; here it would be
			 * kept and replayed before the core said anything. */
			return ed->retain ? MOSQ_ERR_ACL_DENIED : fallback;
		case EDGE_HISTORY:
			return !ed->retain && history_allowed(p, ed->client, ed->topic) ? fallback
			                                                                : MOSQ_ERR_ACL_DENIED;
		default:
			return fallback;
	}
}

/*
 * MESSAGE fires for the bridge's PUBLISHes too (every event the core
 * sends); only a local history request is looked at: the core answers
 * on its response topic with the bridge's rights, which reach every
 * client's replies, so the edge applies the response-topic policy to the
 * client that asked (its own $jobwire/replies/{id}/..., or a topic it may
 * read) before the request leaves. No response topic: the core could
 * answer only the bridge, so the request stops here too.
 */
static int on_message(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct mosquitto_evt_message *ed = event_data;
	char *response = NULL;
	char why[256];
	int rc = MOSQ_ERR_SUCCESS;

	(void)event;
	if(ed->topic[0] != '$' || !jw_topic_is_history_request(ed->topic)) {
		return MOSQ_ERR_SUCCESS;
	}
	if(!jw_props__read_string(ed->properties, MQTT_PROP_RESPONSE_TOPIC, &response)) {
		snprintf(why, sizeof(why), "it has no MQTT 5 response topic");
		rc = MOSQ_ERR_ACL_DENIED;
	} else if(jw_notice__response_topic_check(p, ed->client, response, why, sizeof(why)) !=
	          JW_RESPONSE_OK) {
		rc = MOSQ_ERR_ACL_DENIED;
	}
	if(rc != MOSQ_ERR_SUCCESS) {
		const char *id = mosquitto_client_id(ed->client);

		mosquitto_log_printf(MOSQ_LOG_DEBUG,
		        "jobwire: edge: history request of client %s not sent to the core: %s",
		        id ? id : "?", why);
	}
	mosquitto_free(response);
	return rc;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	return jw_auth__on_basic_auth(event, event_data, userdata);
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct mosquitto_evt_disconnect *ed = event_data;

	(void)event;
	if(p->auth) {
		jw_auth__on_disconnect(p, ed->client);
	}
	return MOSQ_ERR_SUCCESS;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;

	(void)event;
	(void)event_data;
	if(p->auth) {
		jw_auth__tick(p);
	}
	return MOSQ_ERR_SUCCESS;
}

int jw_edge__init(struct jw_plugin *p)
{
	int rc = mosquitto_callback_register(
	        p->identifier, JW_EVT_CLIENT_OFFLINE, on_disconnect, NULL, p);

	if(rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NOT_SUPPORTED) {
		goto fail;
	}
	if(mosquitto_callback_register(p->identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, p) ||
	        mosquitto_callback_register(p->identifier, MOSQ_EVT_MESSAGE, on_message, NULL, p) ||
	        mosquitto_callback_register(
	                p->identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, p) ||
	        mosquitto_callback_register(p->identifier, MOSQ_EVT_TICK, on_tick, NULL, p)) {
		goto fail;
	}
	if(p->auth && mosquitto_callback_register(
	                      p->identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, p)) {
		goto fail;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO,
	        "jobwire: edge mode: %s; no event checks, job table or journal here: %s/... and "
	        "stations/... come from the core over a bridge, local clients send only control "
	        "and history requests",
	        p->auth ? "JWT authentication and session ACL" : "no JWT (password/ACL files decide)",
	        p->opt.prefix);
	return MOSQ_ERR_SUCCESS;
fail:
	mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: cannot register callbacks");
	jw_edge__cleanup(p);
	return MOSQ_ERR_UNKNOWN;
}

void jw_edge__cleanup(struct jw_plugin *p)
{
	mosquitto_callback_unregister(p->identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	mosquitto_callback_unregister(p->identifier, MOSQ_EVT_MESSAGE, on_message, NULL);
	mosquitto_callback_unregister(p->identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
	mosquitto_callback_unregister(p->identifier, JW_EVT_CLIENT_OFFLINE, on_disconnect, NULL);
	mosquitto_callback_unregister(p->identifier, MOSQ_EVT_TICK, on_tick, NULL);
	mosquitto_callback_unregister(p->identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
}
