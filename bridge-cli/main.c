/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire: the command line for workers and operators. Dispatches to one
 * function per command (cmd_*.c); everything shared lives in client.c and
 * the pure helpers (args.c, progress_line.c, legacy.c).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
        {"publish", jw_cmd_publish, "publish one event, checked locally and by the broker"},
        {"run", jw_cmd_run, "run a command as a job: started, progress, complete or failed"},
        {"watch", jw_cmd_watch, "live view of jobs: progress bars, ETA, status"},
        {"wait", jw_cmd_wait, "block until a job ends (exit 0 complete, 1 failed, 2 timeout)"},
        {"review", jw_cmd_review, "ask a person about the job's result and wait for the answer"},
        {"station", jw_cmd_station, "publish this machine's status as a station, with its will"},
        {"history", jw_cmd_history, "finished jobs from the PostgreSQL journal"},
        {"validate", jw_cmd_validate, "check event payloads against the schemas, offline"},
        {"token", jw_cmd_token, "mint a development JWT for the broker's JWT mode"},
        {"bridge", jw_cmd_bridge, "republish a legacy progress WebSocket feed as jobwire events"},
        {"metrics", jw_cmd_metrics, "serve the broker's $jobwire/stats to Prometheus"},
        {"asyncapi", jw_cmd_asyncapi, "write the AsyncAPI 3.0 document of the broker's topics"},
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: jobwire COMMAND [OPTIONS] (jobwire COMMAND --help for details)\n\ncommands:\n");
	for(size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	}
	fprintf(f, "\nexit status: 0 ok, 1 rejected/invalid/failed, 2 timeout, 3 cannot connect, 64 "
	           "usage\n"
	           "docs: docs/cli.md\n");
}

int main(int argc, char **argv)
{
	/* A closed pipe (jobwire watch | head) is an ordinary end. */
	signal(SIGPIPE, SIG_IGN);
	if(argc < 2) {
		usage(stderr);
		return JW_EXIT_USAGE;
	}
	if(!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if(!strcmp(argv[1], "--version")) {
		printf("jobwire %s\n", JW_CLI_VERSION);
		return 0;
	}
	for(size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if(!strcmp(argv[1], commands[i].name)) {
			return commands[i].fn(argc - 2, argv + 2);
		}
	}
	fprintf(stderr, "jobwire: unknown command \"%.60s\"\n", argv[1]);
	usage(stderr);
	return JW_EXIT_USAGE;
}
