/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Reading the MQTT 5 properties of a client's PUBLISH with only the
 * symbols every supported broker exports (docs/design.md, "Reading
 * properties"). Broker thread, inside the callback that got the list.
 */
#ifndef JW_PROPS_H
#define JW_PROPS_H

#include <stdint.h>

typedef struct mqtt5__property mosquitto_property;

/*
 * The first binary property `identifier` (MQTT_PROP_CORRELATION_DATA) of
 * list: 1 with *value (a copy from mosquitto_malloc, free with
 * mosquitto_free; NULL when *len is 0) and *len, 0 when absent or out of
 * memory (*value NULL).
 */
int jw_props__read_binary(
        const mosquitto_property *list, int identifier, void **value, uint16_t *len);

/*
 * The first UTF-8 string property `identifier` (MQTT_PROP_RESPONSE_TOPIC):
 * 1 with *value (a NUL-terminated copy from mosquitto_malloc, free with
 * mosquitto_free), 0 when absent or out of memory (*value NULL).
 */
int jw_props__read_string(const mosquitto_property *list, int identifier, char **value);

#endif
