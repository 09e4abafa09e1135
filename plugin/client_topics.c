/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The topics a client owns under $jobwire: its rejection topic and its
 * replies ($jobwire/replies/{escaped id}[/...]). Asked by the notices
 * (where to answer) and by the session ACL (what a client may read).
 * Broker thread only.
 */
#include "plugin.h"

#include <string.h>

#include "broker_api.h"

#include "topic.h"

int jw_client_topics__rejection(char *buf, size_t buflen, const char *client_id)
{
	return jw_topic_rejection(buf, buflen, client_id);
}

bool jw_client_topics__own_replies(const struct mosquitto *client, const char *topic)
{
	char own[1024];
	int n = jw_topic_client_level(own, sizeof(own), JW_REPLIES_PREFIX, mosquitto_client_id(client));

	/* An empty id would make every client's replies "its own". */
	if(n <= (int)strlen(JW_REPLIES_PREFIX) || strncmp(topic, own, (size_t)n) != 0) {
		return false;
	}
	return topic[n] == '\0' || topic[n] == '/';
}
