/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Log lines the plugin's files share: a background thread's note, as the
 * broker thread passes it on.
 */
#include "plugin.h"

#include "broker_api.h"
#include "threads.h"

void jw_log__note(int level, const char *prefix, const char *text)
{
	int mosq = level == JW_NOTE_ERROR     ? MOSQ_LOG_ERR
	           : level == JW_NOTE_WARNING ? MOSQ_LOG_WARNING
	                                      : MOSQ_LOG_INFO;

	mosquitto_log_printf(mosq, "jobwire: %s%s", prefix, text);
}
