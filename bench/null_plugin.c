/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * A mosquitto plugin that registers the same per-message callbacks as
 * jobwire (MESSAGE, ACL_CHECK, TICK) and does nothing in them: run.sh uses
 * it to separate the broker's cost of calling a plugin from the cost of
 * validation.
 */
#include <stddef.h>

#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mosquitto.h>

#define NULL_EXPORT __attribute__((visibility("default")))

NULL_EXPORT int mosquitto_plugin_version(
        int supported_version_count, const int *supported_versions);
NULL_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
        struct mosquitto_opt *options, int option_count);
NULL_EXPORT int mosquitto_plugin_cleanup(
        void *userdata, struct mosquitto_opt *options, int option_count);

static int on_message(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	return MOSQ_ERR_SUCCESS;
}

/* Allows everything, as jobwire does when no acl_file is configured. */
static int on_acl_check(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	return MOSQ_ERR_SUCCESS;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++) {
		if(supported_versions[i] == 5)
			return 5;
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
        struct mosquitto_opt *options, int option_count)
{
	(void)options;
	(void)option_count;
	*userdata = identifier;
	if(mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, NULL, NULL) ||
	        mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL) ||
	        mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, NULL))
		return MOSQ_ERR_UNKNOWN;
	mosquitto_log_printf(MOSQ_LOG_INFO, "null plugin: callbacks registered");
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	mosquitto_plugin_id_t *identifier = userdata;

	(void)options;
	(void)option_count;
	mosquitto_callback_unregister(identifier, MOSQ_EVT_MESSAGE, on_message, NULL);
	mosquitto_callback_unregister(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	mosquitto_callback_unregister(identifier, MOSQ_EVT_TICK, on_tick, NULL);
	return MOSQ_ERR_SUCCESS;
}
