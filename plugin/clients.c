/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Connections coming and going: MOSQ_EVT_DISCONNECT (a will may follow at
 * once: remembered for acl.c) and, with JWT on, MOSQ_EVT_BASIC_AUTH (an
 * accepted connection's stored messages are checked again next: session
 * replays, never applied again). Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_api.h"

#include "jobs/jobs.h"
#include "topic.h"
#include "write_check.h"

int jw_clients__on_disconnect(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_msgstate *m = p->msg;
	struct mosquitto_evt_disconnect *ed = event_data;
	const char *id = mosquitto_client_id(ed->client);

	(void)event;
	jw_will__other_event(p);
	jw_seq_disconnect(&m->seq, ed->client, id);
	if(p->auth) {
		jw_auth__on_disconnect(p, ed->client);
	}
	return MOSQ_ERR_SUCCESS;
}

int jw_clients__on_basic_auth(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_msgstate *m = p->msg;
	struct mosquitto_evt_basic_auth *ed = event_data;
	int rc;

	jw_will__other_event(p);
	rc = jw_auth__on_basic_auth(event, event_data, userdata);
	/* An accepted connection goes on at once to take over its session
	 * (its stored messages are checked again then). */
	if(rc == MOSQ_ERR_SUCCESS) {
		jw_seq_connecting(&m->seq, ed->client);
	}
	return rc;
}
