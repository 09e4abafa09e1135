/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The topics a client owns under $jobwire: its rejection topic and its
 * replies ($jobwire/replies/{escaped id}[/...]). Asked by the notices
 * (where to answer) and by the session ACL (what a client may read).
 * Broker thread only.
 */
#include "plugin.h"

#include "broker_api.h"

#include "topic.h"

int jw_client_topics__rejection(char *buf, size_t buflen, const char *client_id)
{
	return jw_topic_rejection(buf, buflen, client_id);
}

bool jw_client_topics__own_replies(const struct mosquitto *client, const char *topic)
{
	return jw_topic_own_replies(topic, mosquitto_client_id(client));
}
