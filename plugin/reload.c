/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * MOSQ_EVT_RELOAD (SIGHUP) and the schema loading it shares with the
 * start. Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>

#include "broker_api.h"

#include "schemaset.h"

int jw_reload__load_schemas(struct jw_plugin *p, struct jw_schemaset **out)
{
	char err[512];

	if(jw_schemaset_load_dir(p->opt.schemas_dir, out, err, sizeof(err))) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: cannot load schemas: %s", err);
		return -1;
	}
	return 0;
}

void jw_reload__log_types(const struct jw_schemaset *set, const char *what)
{
	char list[1024];
	size_t used = 0;

	list[0] = '\0';
	for(size_t i = 0; i < jw_schemaset_count(set); i++) {
		int n = snprintf(
		        list + used, sizeof(list) - used, "%s%s", i ? ", " : "", jw_schemaset_type(set, i));
		if(n < 0 || (size_t)n >= sizeof(list) - used) {
			break;
		}
		used += (size_t)n;
	}
	mosquitto_log_printf(
	        MOSQ_LOG_INFO, "jobwire: %s %zu event types: %s", what, jw_schemaset_count(set), list);
}

/*
 * SIGHUP: build a new schema set and swap it in only when every file
 * compiled, so a broken edit never leaves the broker validating against
 * half a contract. Returns DEFER so later RELOAD callbacks (and the
 * broker's own password/ACL file reload) still run.
 */
int jw_reload__on_reload(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_schemaset *fresh = NULL;

	(void)event;
	(void)event_data;
	jw_will__other_event(p);
	if(jw_reload__load_schemas(p, &fresh)) {
		p->counters.reload_failures++;
		mosquitto_log_printf(MOSQ_LOG_ERR,
		        "jobwire: reload failed; keeping the %zu schemas loaded before",
		        jw_schemaset_count(p->schemas));
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	jw_schemaset_free(p->schemas);
	p->schemas = fresh;
	p->counters.reloads++;
	jw_reload__log_types(p->schemas, "reloaded");
	return MOSQ_ERR_PLUGIN_DEFER;
}
