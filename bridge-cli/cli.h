/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Shared pieces of the jobwire command: exit codes, connection options
 * common to every command that talks to the broker, the MQTT client
 * wrapper and the schema set lookup.
 */
#ifndef JW_CLI_H
#define JW_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "args.h"

/* Exit codes shared by every command (docs/cli.md#exit-status). */
#define JW_EXIT_OK 0
#define JW_EXIT_FAILED 1    /* rejected, invalid, job failed */
#define JW_EXIT_TIMEOUT 2   /* wait: the job did not end in time */
#define JW_EXIT_CONNECT 3   /* broker, database or feed unreachable / refused */
#define JW_EXIT_USAGE 64    /* bad arguments */
#define JW_EXIT_SOFTWARE 70 /* out of memory, internal error */

/* Option ids of the common connection options (commands use ids < 100). */
enum {
	JW_OPT_HOST = 100,
	JW_OPT_PORT,
	JW_OPT_URL,
	JW_OPT_USERNAME,
	JW_OPT_PASSWORD,
	JW_OPT_TOKEN,
	JW_OPT_CAFILE,
	JW_OPT_CAPATH,
	JW_OPT_CERT,
	JW_OPT_KEY,
	JW_OPT_TLS,
	JW_OPT_INSECURE,
	JW_OPT_CLIENT_ID,
	JW_OPT_KEEPALIVE,
	JW_OPT_PREFIX,
	JW_OPT_CONNECT_TIMEOUT,
	JW_OPT_HELP,
	JW_OPT_SCHEMAS,
};

#define JW_COMMON_OPTS                                                                             \
	{"host", 'h', 1, JW_OPT_HOST}, {"port", 'p', 1, JW_OPT_PORT}, {"url", 0, 1, JW_OPT_URL},       \
	        {"username", 'u', 1, JW_OPT_USERNAME}, {"password", 'P', 1, JW_OPT_PASSWORD},          \
	        {"token", 0, 1, JW_OPT_TOKEN}, {"cafile", 0, 1, JW_OPT_CAFILE},                        \
	        {"capath", 0, 1, JW_OPT_CAPATH}, {"cert", 0, 1, JW_OPT_CERT},                          \
	        {"key", 0, 1, JW_OPT_KEY}, {"tls", 0, 0, JW_OPT_TLS},                                  \
	        {"insecure", 0, 0, JW_OPT_INSECURE}, {"client-id", 'i', 1, JW_OPT_CLIENT_ID},          \
	        {"keepalive", 0, 1, JW_OPT_KEEPALIVE}, {"prefix", 0, 1, JW_OPT_PREFIX},                \
	        {"connect-timeout", 0, 1, JW_OPT_CONNECT_TIMEOUT}, {"help", 0, 0, JW_OPT_HELP},        \
	{                                                                                              \
		"schemas", 0, 1, JW_OPT_SCHEMAS                                                            \
	}

/* The help text of the common options, appended to each command's help. */
extern const char jw_common_help[];

struct jw_conn {
	char host[256];
	int port;
	int tls;
	const char *cafile, *capath, *cert, *key;
	int insecure;
	char username[256];
	char password[4096];
	int has_username, has_password;
	char client_id[128];
	int keepalive;
	char prefix[65];
	double connect_timeout;
	const char *schemas;
	int help;
};

/* Fills c with defaults and the JOBWIRE_* environment variables. Returns 0
 * or -1 with err (a bad JOBWIRE_PORT, say). */
int jw_conn_init(struct jw_conn *c, char *err, size_t errlen);

/* Applies common option id with value. Returns 1 when id was a common
 * option, 0 when it is not, -1 with err on a bad value. */
int jw_conn_option(struct jw_conn *c, int id, const char *value, char *err, size_t errlen);

/* Checks the session and job ids given (NULL: not given) by the topic
 * rule. 0, or -1 after printing the rule as "jobwire CMD: ...". */
int jw_cli_check_ids(const char *cmd, const char *session, const char *job);

/* Prints "jobwire CMD: msg" to stderr. */
void jw_errorf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* jw_cli_next's flags: the command takes positional arguments, so they
 * (and "--") are returned rather than refused. */
#define JW_CLI_POSITIONAL 1

/*
 * The next option of a command's arguments: its id, or JW_ARGS_END after
 * the last. A bad option, a positional argument the command does not take
 * or a bad value of a common option is reported on stderr ("jobwire CMD:
 * ...") and returns JW_ARGS_ERROR. With conn, the common options are
 * applied to it and not returned.
 */
int jw_cli_next(const char *cmd, struct jw_args *a, const struct jw_opt *opts, struct jw_conn *conn,
        int flags);

/* ---- MQTT client ------------------------------------------------------ */

struct jw_client;

struct jw_msg {
	char *topic;
	char *payload; /* NUL-terminated copy; len bytes before the NUL */
	size_t len;
	int retain;
	char *corr; /* correlation data, NUL-terminated, or NULL */
	size_t corrlen;
};

struct jw_will {
	const char *topic;
	const char *payload;
	int qos;
	int retain;
};

/*
 * Connects with MQTT 5 (clean start) and starts the network thread; waits
 * for CONNACK up to c->connect_timeout. After a lost connection the thread
 * reconnects with backoff and subscribes again. Messages are queued for
 * jw_client_next. Returns 0, or -1 with err ("cannot connect to
 * 127.0.0.1:1: Connection refused"), *out NULL.
 */
int jw_client_open(const struct jw_conn *c, const struct jw_will *will, struct jw_client **out,
        char *err, size_t errlen);

/* Subscribes (QoS 1) and waits for SUBACK. 0 or -1 with err. */
int jw_client_subscribe(struct jw_client *cl, const char *topic, char *err, size_t errlen);

/*
 * Publishes; *mid gets the message id. response_topic and corr (binary,
 * corrlen bytes) may be NULL. 0 or -1 with err (not connected, ...).
 */
int jw_client_publish(struct jw_client *cl, const char *topic, const void *payload, size_t len,
        int qos, int retain, const char *response_topic, const void *corr, size_t corrlen, int *mid,
        char *err, size_t errlen);

/* Waits for the PUBACK of mid up to timeout_s. Returns 0 with *reason
 * (MQTT 5 reason code), or -1 on timeout. */
int jw_client_wait_ack(struct jw_client *cl, int mid, double timeout_s, int *reason);

/* Takes the next queued message, waiting up to timeout_s (0: no wait,
 * < 0: forever). Returns 1 with *m (free with jw_msg_free), 0 on timeout. */
int jw_client_next(struct jw_client *cl, double timeout_s, struct jw_msg **m);

/* A descriptor that becomes readable when a message is queued (for poll);
 * drain with jw_client_next(.., 0, ..). */
int jw_client_fd(const struct jw_client *cl);

/* 1 while connected. */
int jw_client_connected(struct jw_client *cl);

/* The client id in use. */
const char *jw_client_id(const struct jw_client *cl);

/* Disconnects cleanly (no will), stops the thread and frees. NULL no-op. */
void jw_client_close(struct jw_client *cl);

void jw_msg_free(struct jw_msg *m);

/* ---- misc ------------------------------------------------------------- */

struct jw_verdict;

/* Prints " (field F, keyword K)" for a refused event to f, or nothing when
 * the verdict names neither. */
void jw_cli_print_where(FILE *f, const struct jw_verdict *v);

struct jw_schemaset;

/* Loads the schema set: dir if given, else JOBWIRE_SCHEMAS, else the
 * installed dir, else the source tree's. 0 or -1 with err. */
int jw_cli_load_schemas(const char *dir, struct jw_schemaset **out, char *err, size_t errlen);

/* The schema directory jw_cli_load_schemas would load, by the same rules. */
const char *jw_cli_schemas_dir(const char *dir);

/* Monotonic seconds. */
double jw_now(void);

/* Reads all of a file ("-" = stdin) up to max bytes into a malloc'd
 * NUL-terminated buffer. 0 or -1 with err. */
int jw_read_all(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen);

/* Commands: argc/argv start after the command name. */
int jw_cmd_publish(int argc, char **argv);
int jw_cmd_run(int argc, char **argv);
int jw_cmd_watch(int argc, char **argv);
int jw_cmd_wait(int argc, char **argv);
int jw_cmd_station(int argc, char **argv);
/* history_stations.c: jobwire history --stations on an open connection
 * (libpq's PGconn); since (seconds) and station NULL for all, limit "0"
 * for all. Returns the exit status. */
struct pg_conn;
int jw_history_stations(
        struct pg_conn *pg, const char *station, const char *since, const char *limit, int json);
/* cmd_station.c: prints a station's state (stations/ID/state) as one line,
 * or as it came with json. */
void jw_station_print_state(FILE *out, const char *payload, size_t len, int json);
int jw_cmd_history(int argc, char **argv);
int jw_cmd_review(int argc, char **argv);
/* cmd_review.c: for `jobwire run`: the job and the connection in the
 * environment its command inherits (JOBWIRE_SESSION, JOBWIRE_JOB, ...). */
void jw_review_export_env(const struct jw_conn *c, const char *session, const char *job);
/* history_reviews.c: jobwire history --reviews on an open connection; the
 * filters as text (NULL: none). Returns the exit status. */
struct pg_conn; /* libpq's PGconn */
int jw_history_reviews(struct pg_conn *pg, const char *session, const char *job, const char *since,
        const char *limit, int json);
int jw_cmd_validate(int argc, char **argv);
int jw_cmd_token(int argc, char **argv);
int jw_cmd_bridge(int argc, char **argv);
int jw_cmd_metrics(int argc, char **argv);
int jw_cmd_asyncapi(int argc, char **argv);

#endif
