/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The mosquitto plugin API, for every broker line jobwire supports. 2.0
 * splits it over mosquitto_broker.h, mosquitto_plugin.h, mosquitto.h and
 * mqtt_protocol.h (broker before plugin); 2.1 moved it to mosquitto/ and
 * <mosquitto.h> includes all of it (the old names remain, with a
 * deprecation #warning). Every plugin file includes this instead.
 * JW_MOSQ_21 is 1 when the headers are 2.1's or later.
 */
#ifndef JW_BROKER_API_H
#define JW_BROKER_API_H

#include <mosquitto.h>

#if LIBMOSQUITTO_MAJOR > 2 || (LIBMOSQUITTO_MAJOR == 2 && LIBMOSQUITTO_MINOR >= 1)
#define JW_MOSQ_21 1
#else
#define JW_MOSQ_21 0
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mqtt_protocol.h>
#endif

#endif
