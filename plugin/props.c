/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * MQTT 5 property values of a PUBLISH, read without the broker's
 * mosquitto_property_read_* functions. A broker built from the upstream
 * 2.0 release exports only what its src/linker.syms lists, which has no
 * property readers, so a plugin calling them does not load there
 * ("undefined symbol: mosquitto_property_read_binary"). Built against 2.1
 * headers, whose brokers export the readers, the readers are used.
 * Why walking the list is the lesser evil: docs/design.md.
 */
#include "props.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "broker_api.h"

#if JW_MOSQ_21

int jw_props__read_binary(
        const mosquitto_property *list, int identifier, void **value, uint16_t *len)
{
	*value = NULL;
	*len = 0;
	return mosquitto_property_read_binary(list, identifier, value, len, false) != NULL;
}

int jw_props__read_string(const mosquitto_property *list, int identifier, char **value)
{
	*value = NULL;
	return mosquitto_property_read_string(list, identifier, value, false) != NULL;
}

#else

/*
 * The broker's property list node, completing the type mosquitto.h
 * declares. The members up to `identifier` are the same in every 2.0
 * release (lib/property_mosq.h) and in the 2.1 line
 * (libcommon/property_common.h, which adds members after it); the
 * nodes are the broker's: only read here, never allocated or freed.
 */
struct mqtt__string {
	char *v;
	uint16_t len;
};

struct mqtt5__property {
	struct mqtt5__property *next;
	union {
		uint8_t i8;
		uint16_t i16;
		uint32_t i32;
		uint32_t varint;
		struct mqtt__string bin;
		struct mqtt__string s;
	} value;
	struct mqtt__string name;
	int32_t identifier;
	bool client_generated;
};

static const struct mqtt5__property *find(const mosquitto_property *list, int identifier)
{
	for(const struct mqtt5__property *p = list; p; p = p->next) {
		if(p->identifier == identifier) {
			return p;
		}
	}
	return NULL;
}

int jw_props__read_binary(
        const mosquitto_property *list, int identifier, void **value, uint16_t *len)
{
	const struct mqtt5__property *p = find(list, identifier);

	*value = NULL;
	*len = 0;
	if(!p) {
		return 0;
	}
	if(p->value.bin.len > 0) {
		if(!p->value.bin.v || !(*value = mosquitto_malloc(p->value.bin.len))) {
			return 0;
		}
		memcpy(*value, p->value.bin.v, p->value.bin.len);
	}
	*len = p->value.bin.len;
	return 1;
}

int jw_props__read_string(const mosquitto_property *list, int identifier, char **value)
{
	const struct mqtt5__property *p = find(list, identifier);
	char *s;

	*value = NULL;
	if(!p || (p->value.s.len > 0 && !p->value.s.v)) {
		return 0;
	}
	s = mosquitto_malloc((size_t)p->value.s.len + 1);
	if(!s) {
		return 0;
	}
	if(p->value.s.len > 0) {
		memcpy(s, p->value.s.v, p->value.s.len);
	}
	s[p->value.s.len] = '\0';
	*value = s;
	return 1;
}

#endif
