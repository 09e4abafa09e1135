/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Entry points of the jobwire mosquitto plugin: option parsing, schema
 * loading, callback registration and cleanup. Each broker event has its
 * file (plugin.h lists them); what an event does to the job table is
 * carried out in effects.c.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_api.h"

#include "jobs/jobs.h"
#include "schemaset.h"

#define JW_EXPORT __attribute__((visibility("default")))

JW_EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions);
JW_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
        struct mosquitto_opt *options, int option_count);
JW_EXPORT int mosquitto_plugin_cleanup(
        void *userdata, struct mosquitto_opt *options, int option_count);

static void context_free(struct jw_plugin *p)
{
	if(!p) {
		return;
	}
	jw_wake__cleanup(&p->wake);
	/* Wills held for the next tick were sent at shutdown: dropped. */
	jw_write__cleanup(p);
	jw_journal__cleanup(p);
	jw_table__cleanup(p);
	jw_stations__cleanup(p);
	jw_auth__cleanup(p);
	jw_schemaset_free(p->schemas);
	jw_counters__cleanup(&p->counters);
	jw_options__cleanup(&p->opt);
	jw_jdoc_free(&p->doc);
	free(p);
}

/* JW_EVT_CLIENT_OFFLINE: plugin.h. */
#if JW_MOSQ_21
_Static_assert(MOSQ_EVT_CLIENT_OFFLINE == JW_EVT_CLIENT_OFFLINE, "MOSQ_EVT_CLIENT_OFFLINE moved");
#endif

static int register_callbacks(struct jw_plugin *p)
{
	int rc = mosquitto_callback_register(
	        p->identifier, JW_EVT_CLIENT_OFFLINE, jw_clients__on_disconnect, NULL, p);

	if(rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NOT_SUPPORTED) {
		return -1;
	}
	if(mosquitto_callback_register(
	           p->identifier, MOSQ_EVT_MESSAGE, jw_publish__on_message, NULL, p) ||
	        mosquitto_callback_register(
	                p->identifier, MOSQ_EVT_ACL_CHECK, jw_acl__on_acl_check, NULL, p) ||
	        mosquitto_callback_register(
	                p->identifier, MOSQ_EVT_DISCONNECT, jw_clients__on_disconnect, NULL, p) ||
	        mosquitto_callback_register(p->identifier, MOSQ_EVT_TICK, jw_tick__on_tick, NULL, p) ||
	        mosquitto_callback_register(
	                p->identifier, MOSQ_EVT_RELOAD, jw_reload__on_reload, NULL, p)) {
		return -1;
	}
	/* With JWT off the plugin answers no authentication question, so
	 * password_file and allow_anonymous work as in a bare broker. */
	if(p->auth && mosquitto_callback_register(
	                      p->identifier, MOSQ_EVT_BASIC_AUTH, jw_clients__on_basic_auth, NULL, p)) {
		return -1;
	}
	return 0;
}

static void unregister_callbacks(struct jw_plugin *p)
{
	mosquitto_callback_unregister(p->identifier, MOSQ_EVT_MESSAGE, jw_publish__on_message, NULL);
	mosquitto_callback_unregister(p->identifier, MOSQ_EVT_ACL_CHECK, jw_acl__on_acl_check, NULL);
	mosquitto_callback_unregister(
	        p->identifier, MOSQ_EVT_DISCONNECT, jw_clients__on_disconnect, NULL);
	mosquitto_callback_unregister(
	        p->identifier, JW_EVT_CLIENT_OFFLINE, jw_clients__on_disconnect, NULL);
	mosquitto_callback_unregister(p->identifier, MOSQ_EVT_TICK, jw_tick__on_tick, NULL);
	mosquitto_callback_unregister(p->identifier, MOSQ_EVT_RELOAD, jw_reload__on_reload, NULL);
	if(p->auth) {
		mosquitto_callback_unregister(
		        p->identifier, MOSQ_EVT_BASIC_AUTH, jw_clients__on_basic_auth, NULL);
	}
}

static void resolve_acl_fallback(struct jw_plugin *p)
{
	char why[512];

	switch(p->opt.acl_fallback) {
		case JW_ACL_ALLOW:
			p->acl_allow = true;
			snprintf(why, sizeof(why), "plugin_opt_acl_fallback allow");
			break;
		case JW_ACL_DEFER:
			p->acl_allow = false;
			snprintf(why, sizeof(why), "plugin_opt_acl_fallback defer");
			break;
		default:
			p->acl_allow = !jw_options__detect_acl_source(why, sizeof(why));
			break;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO,
	        "jobwire: access checks the plugin does not object to are %s (%s)",
	        p->acl_allow ? "allowed" : "deferred to acl_file / other plugins", why);
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++) {
		if(supported_versions[i] == 5) {
			return 5;
		}
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
        struct mosquitto_opt *options, int option_count)
{
	struct jw_plugin *p = calloc(1, sizeof(*p));

	if(!p) {
		return MOSQ_ERR_NOMEM;
	}
	p->identifier = identifier;
#if JW_MOSQ_21
	/* 2.1 names plugins in its log and in $CONTROL/broker/v1 listPlugins. */
	(void)mosquitto_plugin_set_info(identifier, "jobwire", JW_PLUGIN_VERSION);
#endif
	jw_rfc3339_cache_init(&p->ts_cache);
	if(jw_options__parse(&p->opt, options, option_count)) {
		free(p);
		return MOSQ_ERR_INVAL;
	}
	/* An edge checks no event: no schemas (edge.c). */
	if(p->opt.mode == JW_MODE_CORE && jw_reload__load_schemas(p, &p->schemas)) {
		context_free(p);
		return MOSQ_ERR_INVAL;
	}
	if(jw_auth__init(p)) {
		context_free(p);
		return MOSQ_ERR_INVAL;
	}
	if(p->auth) {
		/* The claims decide every access check; nothing is deferred. */
		p->acl_allow = true;
	} else {
		resolve_acl_fallback(p);
	}
	/* An edge runs none of what follows: no job table, no journal, no
	 * stations (edge.c). */
	if(p->opt.mode == JW_MODE_EDGE) {
		int rc = jw_edge__init(p);

		if(rc != MOSQ_ERR_SUCCESS) {
			context_free(p);
			return rc;
		}
		*userdata = p;
		return MOSQ_ERR_SUCCESS;
	}
	if(jw_write__init(p)) {
		context_free(p);
		return MOSQ_ERR_NOMEM;
	}
	{
		struct jw_clock now;
		jw_clock_now(&now);
		p->started_mono_ms = now.mono_ms;
	}
	if(jw_table__init(p) || jw_journal__init(p) || jw_stations__init(p)) {
		context_free(p);
		return MOSQ_ERR_UNKNOWN;
	}
	jw_wake__init(&p->wake);
	if(register_callbacks(p)) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: cannot register callbacks");
		unregister_callbacks(p);
		context_free(p);
		return MOSQ_ERR_UNKNOWN;
	}
	jw_reload__log_types(p->schemas, "validating");
	mosquitto_log_printf(MOSQ_LOG_INFO,
	        "jobwire: topics %s/{session}/{job}/{event}, schemas from %s, max payload %zu bytes, "
	        "max depth %zu",
	        p->opt.prefix, p->opt.schemas_dir, p->opt.limits.max_payload, p->opt.limits.max_depth);
	*userdata = p;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	struct jw_plugin *p = userdata;

	(void)options;
	(void)option_count;
	if(!p) {
		return MOSQ_ERR_SUCCESS;
	}
	if(p->opt.mode == JW_MODE_EDGE) {
		jw_edge__cleanup(p);
		context_free(p);
		return MOSQ_ERR_SUCCESS;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO, "jobwire: stopping; %llu events accepted, %llu rejected",
	        (unsigned long long)p->counters.accepted, (unsigned long long)p->counters.rejected);
	unregister_callbacks(p);
	context_free(p);
	return MOSQ_ERR_SUCCESS;
}
