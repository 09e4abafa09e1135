/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire run: wraps a command as a job. Publishes started, heartbeats and
 * progress parsed from the command's output (passed through unchanged),
 * then complete on exit 0 or failed with the exit status and the tail of
 * stderr. A cancel on the job's control topic sends SIGTERM to the
 * command's process group, then SIGKILL after a grace period. A will on
 * the failed topic tells the broker when the wrapper itself dies. With
 * --retries N a failure is retryable: a retry on the control topic runs
 * the command again as the job's next attempt, up to N times.
 */
#define _GNU_SOURCE /* for prctl's PR_SET_PDEATHSIG via sys/prctl.h, strsignal */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "args.h"
#include "json.h"
#include "progress_line.h"

static const char help[] =
        "usage: jobwire run --session S --job J [--name N] [--heartbeat SECS] -- CMD [ARGS...]\n"
        "\n"
        "Runs CMD as job S/J: publishes started, a heartbeat every SECS, progress\n"
        "parsed from CMD's stdout and stderr (lines \"PROGRESS 45/100 msg\",\n"
        "\"PROGRESS 45% msg\", \"STEP name\", or any free-standing \"45%\" as printed by\n"
        "curl, wget, rsync, tqdm), then complete on exit 0 or failed with the exit\n"
        "status and the tail of stderr. CMD's output still reaches the terminal.\n"
        "A cancel on jobs/S/J/control sends SIGTERM to CMD, then SIGKILL after --grace.\n"
        "CMD finds its job and broker in JOBWIRE_SESSION, JOBWIRE_JOB, JOBWIRE_HOST,\n"
        "JOBWIRE_PORT and JOBWIRE_PREFIX (so `jobwire review` inside it just works).\n"
        "With --retries N a failure says retryable: true and the wrapper waits for a\n"
        "retry on jobs/S/J/control (a dashboard's Retry button); each one runs CMD again\n"
        "as the job's next attempt (started again), up to N times. Only a requested\n"
        "retry re-runs CMD.\n"
        "\n"
        "  -s, --session S     [JOBWIRE_SESSION]\n"
        "  -j, --job J         [JOBWIRE_JOB]\n"
        "  -n, --name N        job name shown by dashboards [the command line]\n"
        "      --heartbeat T   heartbeat interval; the broker fails the job after 3\n"
        "                      silent intervals [10s]\n"
        "      --grace T       SIGTERM to SIGKILL on cancel [10s]\n"
        "      --no-progress   do not parse output for progress\n"
        "      --no-will       no will: a killed wrapper is noticed by heartbeat timeout only\n"
        "      --retries N     after a failure, run CMD again when a retry is requested,\n"
        "                      at most N times [0]\n"
        "      --retry-wait T  how long to wait for a retry request after a failure [10m]\n"
        "\n"
        "Exit status: CMD's own, of its last run (128+N when killed by signal N);\n"
        "3 cannot connect;\n"
        "64 bad arguments; 1 when the broker refused started (CMD is not run).\n\n";

enum { O_SESSION = 1, O_JOB, O_NAME, O_HB, O_GRACE, O_NOPROG, O_NOWILL, O_RETRIES, O_RETRY_WAIT };

static const struct jw_opt opts[] = {
        {"session", 's', 1, O_SESSION},
        {"job", 'j', 1, O_JOB},
        {"name", 'n', 1, O_NAME},
        {"heartbeat", 0, 1, O_HB},
        {"grace", 0, 1, O_GRACE},
        {"no-progress", 0, 0, O_NOPROG},
        {"no-will", 0, 0, O_NOWILL},
        {"retries", 0, 1, O_RETRIES},
        {"retry-wait", 0, 1, O_RETRY_WAIT},
        JW_COMMON_OPTS,
        {NULL, 0, 0, 0},
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

#define TAIL_MAX 2000
#define LINE_MAX_ 4096

/* What the options ask for. */
struct run_opts {
	const char *session, *job, *name;
	double hb, grace;
	int use_will, parse;
	int cmd_at;        /* argv index of the command, -1 none */
	long retries;      /* --retries: runs after the first, on request */
	double retry_wait; /* --retry-wait, s */
};

struct run {
	struct jw_client *cl;
	char base[400]; /* {prefix}/S/J */
	char ctl[512];  /* {base}/control */
	char cmdline[200];
	double hb, grace;
	/* the command */
	pid_t pid;
	int fds[2]; /* its stdout and stderr, -1 once closed */
	int status, exited;
	double t0, kill_at, drain_until;
	/* cancel */
	int cancelled;
	char cancel_reason[300];
	char requested_by[201];
	/* progress */
	double last_pct; /* last published overall percent, -1 none */
	int pending;     /* a progress report waits for the rate limit */
	struct jw_progress_line pend;
	char step[201];
	double last_pub;
	double last_event;
	/* line assembly per stream */
	char line[2][LINE_MAX_];
	size_t linelen[2];
	/* stderr tail (ring of the last TAIL_MAX bytes) */
	char tail[TAIL_MAX];
	size_t tail_len;
	int parse;
	/* retries: -1 without --retries (failed says nothing of retryable),
	 * else how many runs may still follow this one */
	long retries_left;
};

/* Publishes o as the event type of the job (QoS 1). 0 with *mid, or -1
 * with err. */
static int send_event(
        struct run *r, const char *type, struct json_object *o, int *mid, char *err, size_t errlen)
{
	char topic[512];
	snprintf(topic, sizeof(topic), "%s/%s", r->base, type);
	const char *p = json_object_to_json_string_ext(
	        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	return jw_client_publish(r->cl, topic, p, strlen(p), 1, 0, NULL, NULL, 0, mid, err, errlen);
}

/* Publishes o (taking it) and, with wait, reports a missing or refusing
 * PUBACK; errors are printed, never returned. */
static void publish_obj(struct run *r, const char *type, struct json_object *o, int wait)
{
	char err[300];
	int mid, reason;
	if(send_event(r, type, o, &mid, err, sizeof(err))) {
		jw_errorf("run", "%s", err);
	} else if(wait) {
		if(jw_client_wait_ack(r->cl, mid, 10, &reason)) {
			jw_errorf("run", "no PUBACK for %s within 10 s: the event may be lost", type);
		} else if(reason >= 0x80) {
			jw_errorf("run", "the broker refused the %s event (reason 0x%02x)", type, reason);
		}
	}
	r->last_event = jw_now();
	json_object_put(o);
}

static void flush_progress(struct run *r)
{
	if(!r->pending) {
		return;
	}
	r->pending = 0;
	struct jw_progress_line *p = &r->pend;
	double pct = p->has_count     ? 100.0 * p->current / p->total
	             : p->has_percent ? p->percent
	                              : r->last_pct;
	if(pct < 0) {
		pct = 0;
	}
	if(pct < r->last_pct) {
		/* The broker refuses progress that goes backwards. */
		return;
	}
	struct json_object *o = json_object_new_object();
	if(p->has_count) {
		json_object_object_add(o, "current", jw_json_number(p->current));
		json_object_object_add(o, "total", jw_json_number(p->total));
	} else {
		json_object_object_add(o, "progress", jw_json_number(pct));
	}
	if(r->step[0]) {
		json_object_object_add(o, "step", json_object_new_string(r->step));
	}
	if(p->message[0]) {
		json_object_object_add(o, "message", json_object_new_string(p->message));
	}
	r->last_pct = pct;
	r->last_pub = jw_now();
	publish_obj(r, "progress", o, 0);
}

static void on_line(struct run *r, const char *line, size_t len)
{
	struct jw_progress_line p;
	if(!r->parse || !jw_progress_line_parse(line, len, &p)) {
		return;
	}
	/* Only UTF-8 reaches the broker (it refuses anything else). */
	if(!jw_utf8_valid(p.message, strlen(p.message), &(size_t){0})) {
		p.message[0] = '\0';
	}
	if(p.step[0]) {
		if(!jw_utf8_valid(p.step, strlen(p.step), &(size_t){0})) {
			return;
		}
		snprintf(r->step, sizeof(r->step), "%s", p.step);
	}
	if(!p.has_percent && !p.has_count && r->pending) {
		/* A step line keeps the figures already waiting. */
		if(p.message[0]) {
			snprintf(r->pend.message, sizeof(r->pend.message), "%s", p.message);
		}
		return;
	}
	r->pend = p;
	r->pending = 1;
	if(jw_now() - r->last_pub >= 0.25) {
		flush_progress(r);
	}
}

static void on_output(struct run *r, int stream, const char *buf, size_t n)
{
	if(stream == 1) {
		for(size_t i = 0; i < n; i++) {
			r->tail[(r->tail_len + i) % TAIL_MAX] = buf[i];
		}
		r->tail_len += n;
	}
	for(size_t i = 0; i < n; i++) {
		char c = buf[i];
		if(c == '\n' || c == '\r' || r->linelen[stream] == LINE_MAX_ - 1) {
			on_line(r, r->line[stream], r->linelen[stream]);
			r->linelen[stream] = 0;
			if(c == '\n' || c == '\r') {
				continue;
			}
		}
		r->line[stream][r->linelen[stream]++] = c;
	}
}

/* The stderr tail as valid UTF-8 text, starting at a line if possible. */
static void tail_text(struct run *r, char *out, size_t cap)
{
	size_t n = r->tail_len < TAIL_MAX ? r->tail_len : TAIL_MAX;
	size_t start = r->tail_len < TAIL_MAX ? 0 : r->tail_len % TAIL_MAX;
	size_t k = 0;
	/* A NUL byte would end the text here (and U+0000 could not be
	 * journaled anyway): a space keeps what follows it. */
	for(size_t i = 0; i < n && k + 1 < cap; i++) {
		char ch = r->tail[(start + i) % TAIL_MAX];
		out[k++] = ch ? ch : ' ';
	}
	out[k] = '\0';
	if(r->tail_len > TAIL_MAX) {
		char *nl = strchr(out, '\n');
		if(nl) {
			memmove(out, nl + 1, strlen(nl + 1) + 1);
		}
	}
	k = strlen(out);
	while(k > 0 && (out[k - 1] == '\n' || out[k - 1] == '\r')) {
		out[--k] = '\0';
	}
	if(!jw_utf8_valid(out, k, &(size_t){0})) {
		for(size_t i = 0; i < k; i++) {
			if((unsigned char)out[i] >= 0x80) {
				out[i] = '?';
			}
		}
	}
	for(size_t i = 0; i < k; i++) {
		if((unsigned char)out[i] < 0x20 && out[i] != '\n' && out[i] != '\t') {
			out[i] = ' ';
		}
	}
}

static void add_load(struct json_object *o)
{
	double load[1];
	if(getloadavg(load, 1) == 1) {
		struct json_object *sys = json_object_new_object();
		json_object_object_add(sys, "load_1m", jw_json_number(load[0]));
		json_object_object_add(o, "system", sys);
	}
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* Parses the options up to the command. Returns -1 to go on, else the
 * exit status (after --help or a bad option). */
static int parse_options(int argc, char **argv, struct jw_conn *conn, struct run_opts *o)
{
	const char *cmd = "run";
	char err[600];
	struct jw_args a;
	int id;
	jw_args_init(&a, argc, argv);
	while(o->cmd_at < 0 &&
	        (id = jw_cli_next(cmd, &a, opts, conn, JW_CLI_POSITIONAL)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case JW_ARGS_DASHDASH:
				o->cmd_at = a.i;
				break;
			case JW_ARGS_POSITIONAL:
				o->cmd_at = a.i - 1;
				break;
			case O_SESSION:
				o->session = a.value;
				break;
			case O_JOB:
				o->job = a.value;
				break;
			case O_NAME:
				o->name = a.value;
				break;
			case O_HB:
				if(jw_parse_duration(a.value, &o->hb, err, sizeof(err)) || o->hb < 1 ||
				        o->hb > 86400) {
					jw_errorf(cmd, "--heartbeat: %s",
					        o->hb < 1 || o->hb > 86400 ? "must be 1s to 1d" : err);
					return JW_EXIT_USAGE;
				}
				break;
			case O_GRACE:
				if(jw_parse_duration(a.value, &o->grace, err, sizeof(err))) {
					jw_errorf(cmd, "--grace: %s", err);
					return JW_EXIT_USAGE;
				}
				break;
			case O_NOPROG:
				o->parse = 0;
				break;
			case O_NOWILL:
				o->use_will = 0;
				break;
			case O_RETRIES:
				if(jw_parse_long(a.value, 0, 1000, &o->retries, "--retries", err, sizeof(err))) {
					jw_errorf(cmd, "%s", err);
					return JW_EXIT_USAGE;
				}
				break;
			case O_RETRY_WAIT:
				if(jw_parse_duration(a.value, &o->retry_wait, err, sizeof(err)) ||
				        o->retry_wait <= 0) {
					jw_errorf(
					        cmd, "--retry-wait: %s", o->retry_wait <= 0 ? "must be positive" : err);
					return JW_EXIT_USAGE;
				}
				break;
			default:
				break;
		}
	}
	return -1;
}

/* Checks what parse_options could not check alone. 0 or JW_EXIT_USAGE. */
static int check_options(const struct run_opts *o, int argc)
{
	const char *cmd = "run";
	if(!o->session || !o->job || o->cmd_at < 0 || o->cmd_at >= argc) {
		jw_errorf(cmd, "need --session, --job and a command after -- (see --help)");
		return JW_EXIT_USAGE;
	}
	if(jw_cli_check_ids(cmd, o->session, o->job)) {
		return JW_EXIT_USAGE;
	}
	const char *name = o->name;
	if(name && (!*name || strlen(name) > 200 || !jw_utf8_valid(name, strlen(name), &(size_t){0}))) {
		jw_errorf(cmd, "--name must be 1-200 bytes of UTF-8");
		return JW_EXIT_USAGE;
	}
	return 0;
}

/* The command line joined by spaces, cut to fit out; "command" when it is
 * not UTF-8 (the broker would refuse the event). */
static void join_cmdline(char *out, size_t cap, int argc, char **argv, int from)
{
	size_t k = 0;
	out[0] = '\0';
	for(int i = from; i < argc && k + 2 < cap; i++) {
		int w = snprintf(out + k, cap - k, "%s%s", i > from ? " " : "", argv[i]);
		k += w > 0 ? (size_t)w : 0;
	}
	if(!jw_utf8_valid(out, strlen(out), &(size_t){0})) {
		snprintf(out, cap, "%s", "command");
	}
}

/* The will is a valid failed event, so the broker accepts it and the job
 * fails at once when the wrapper is killed or cut off. */
static void will_payload(char *out, size_t cap)
{
	struct json_object *wo = json_object_new_object();
	json_object_object_add(wo, "error",
	        json_object_new_string("the jobwire run wrapper lost its connection to the broker "
	                               "(killed, crashed or network failure)"));
	json_object_object_add(wo, "code", json_object_new_string("worker_lost"));
	json_object_object_add(wo, "retryable", json_object_new_boolean(1));
	snprintf(out, cap, "%s", json_object_to_json_string_ext(wo, JSON_C_TO_STRING_PLAIN));
	json_object_put(wo);
}

/* Connects (with the will unless use_will is 0) and subscribes to the
 * job's control topic and this client's rejections. 0 or JW_EXIT_CONNECT. */
static int connect_broker(struct run *r, const struct jw_conn *conn, int use_will)
{
	char err[600], will_topic[512], will_msg[600], rej[300];
	snprintf(will_topic, sizeof(will_topic), "%s/failed", r->base);
	will_payload(will_msg, sizeof(will_msg));
	struct jw_will will = {will_topic, will_msg, 1, 0};

	if(jw_client_open(conn, use_will ? &will : NULL, &r->cl, err, sizeof(err))) {
		jw_errorf("run", "%s", err);
		return JW_EXIT_CONNECT;
	}
	snprintf(r->ctl, sizeof(r->ctl), "%s/control", r->base);
	snprintf(rej, sizeof(rej), "$jobwire/rejections/%s", jw_client_id(r->cl));
	if(jw_client_subscribe(r->cl, r->ctl, err, sizeof(err)) ||
	        jw_client_subscribe(r->cl, rej, err, sizeof(err))) {
		jw_errorf("run", "%s", err);
		return JW_EXIT_CONNECT;
	}
	return 0;
}

static struct json_object *started_event(const struct run *r, const char *name)
{
	struct json_object *st = json_object_new_object();
	json_object_object_add(st, "name", json_object_new_string(name ? name : r->cmdline));
	json_object_object_add(st, "heartbeat_interval_s", jw_json_number(r->hb));
	char worker[200], host[64] = "host";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(worker, sizeof(worker), "%s pid %ld", host, (long)getpid());
	if(jw_utf8_valid(worker, strlen(worker), &(size_t){0})) {
		json_object_object_add(st, "worker", json_object_new_string(worker));
	}
	struct json_object *md = json_object_new_object();
	json_object_object_add(md, "command", json_object_new_string(r->cmdline));
	json_object_object_add(st, "metadata", md);
	return st;
}

/* Publishes started and waits for the broker to accept it: the command
 * runs only then. 0 or JW_EXIT_FAILED (with the broker's notice if one
 * comes). */
static int publish_started(struct run *r, const struct run_opts *o)
{
	char err[600];
	struct json_object *st = started_event(r, o->name);
	int mid, reason = 0;
	int rc = 0;
	if(send_event(r, "started", st, &mid, err, sizeof(err)) ||
	        jw_client_wait_ack(r->cl, mid, 10, &reason) || reason >= 0x80) {
		struct jw_msg *m;
		jw_errorf("run", "the broker did not accept started for %s/%s; not running the command",
		        o->session, o->job);
		if(jw_client_next(r->cl, 2, &m)) {
			jw_errorf("run", "notice: %s", m->payload);
			jw_msg_free(m);
		}
		rc = JW_EXIT_FAILED;
	}
	json_object_put(st);
	r->last_event = jw_now();
	return rc;
}

/* Starts the command in its own process group with its stdout and stderr
 * on pipes. 0 or JW_EXIT_SOFTWARE. */
static int spawn_command(struct run *r, char **child_argv)
{
	int out_pipe[2], err_pipe[2];
	if(pipe(out_pipe) || pipe(err_pipe)) {
		jw_errorf("run", "pipe: %s", strerror(errno));
		return JW_EXIT_SOFTWARE;
	}
	r->t0 = jw_now();
	r->pid = fork();
	if(r->pid < 0) {
		jw_errorf("run", "fork: %s", strerror(errno));
		return JW_EXIT_SOFTWARE;
	}
	if(r->pid == 0) {
		setpgid(0, 0);
		/* If the wrapper dies, so does the command: nobody would report it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out_pipe[1], STDOUT_FILENO);
		dup2(err_pipe[1], STDERR_FILENO);
		close(out_pipe[0]);
		close(out_pipe[1]);
		close(err_pipe[0]);
		close(err_pipe[1]);
		execvp(child_argv[0], child_argv);
		fprintf(stderr, "jobwire run: cannot run \"%s\": %s\n", child_argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(r->pid, r->pid);
	close(out_pipe[1]);
	close(err_pipe[1]);
	r->fds[0] = out_pipe[0];
	r->fds[1] = err_pipe[0];
	return 0;
}

/* SIGINT, SIGTERM and SIGHUP are passed on to the command's group. */
static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Notes the command's exit. Returns 1 when the loop is done: the command
 * exited and what is left on the pipes has had its time. */
static int child_done(struct run *r)
{
	if(!r->exited && waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
		r->exited = 1;
		/* Grandchildren may hold the pipes: read what is left briefly. */
		r->drain_until = jw_now() + 1.0;
	}
	return r->exited && jw_now() > r->drain_until;
}

/* Signals to pass on, the SIGKILL after the grace, heartbeats and progress
 * held back by the rate limit. */
static void on_tick(struct run *r)
{
	if(got_signal && !r->exited) {
		kill(-r->pid, got_signal);
		got_signal = 0;
	}
	if(r->kill_at >= 0 && !r->exited && jw_now() >= r->kill_at) {
		fprintf(stderr, "jobwire run: %s still running %gs after SIGTERM: SIGKILL\n", r->cmdline,
		        r->grace);
		kill(-r->pid, SIGKILL);
		r->kill_at = -1;
	}
	if(jw_now() - r->last_event >= r->hb) {
		struct json_object *o = json_object_new_object();
		add_load(o);
		publish_obj(r, "heartbeat", o, 0);
	}
	if(r->pending && jw_now() - r->last_pub >= 0.25) {
		flush_progress(r);
	}
}

/* Waits up to 100 ms for output or a message. */
static void wait_for_input(struct run *r)
{
	struct pollfd p[3];
	int np = 0;
	for(int s = 0; s < 2; s++) {
		if(r->fds[s] >= 0) {
			p[np].fd = r->fds[s];
			p[np].events = POLLIN;
			np++;
		}
	}
	p[np].fd = jw_client_fd(r->cl);
	p[np].events = POLLIN;
	np++;
	poll(p, (nfds_t)np, 100);
}

static void write_all(int fd, const char *buf, size_t n)
{
	size_t off = 0;
	while(off < n) {
		ssize_t w = write(fd, buf + off, n - off);
		if(w <= 0) {
			break;
		}
		off += (size_t)w;
	}
}

/* Reads what stream s (0 stdout, 1 stderr) has ready, passes it through
 * unchanged and scans it; closes the stream at its end. */
static void pump_stream(struct run *r, int s)
{
	char buf[8192];
	if(r->fds[s] < 0) {
		return;
	}
	struct pollfd q = {r->fds[s], POLLIN, 0};
	if(poll(&q, 1, 0) <= 0) {
		return;
	}
	ssize_t n = read(r->fds[s], buf, sizeof(buf));
	if(n <= 0) {
		if(n < 0 && errno == EINTR) {
			return;
		}
		close(r->fds[s]);
		r->fds[s] = -1;
		return;
	}
	write_all(s == 0 ? STDOUT_FILENO : STDERR_FILENO, buf, (size_t)n);
	on_output(r, s, buf, (size_t)n);
}

/* A control message: the first cancel before the command exits sends
 * SIGTERM to its group and arms the SIGKILL. */
static void on_control(struct run *r, const struct jw_msg *m)
{
	struct json_object *o = NULL, *v;
	struct jw_json_error je;
	if(!jw_json_parse(m->payload, m->len, 32, &o, &je) && o &&
	        json_object_is_type(o, json_type_object) &&
	        json_object_object_get_ex(o, "action", &v) &&
	        !strcmp(json_object_get_string(v), "cancel") && !r->cancelled && !r->exited) {
		r->cancelled = 1;
		if(json_object_object_get_ex(o, "reason", &v) && json_object_is_type(v, json_type_string)) {
			snprintf(r->cancel_reason, sizeof(r->cancel_reason), "%s", json_object_get_string(v));
		}
		if(json_object_object_get_ex(o, "requested_by", &v) &&
		        json_object_is_type(v, json_type_string)) {
			snprintf(r->requested_by, sizeof(r->requested_by), "%s", json_object_get_string(v));
		}
		fprintf(stderr, "jobwire run: cancel requested%s%s: SIGTERM to %s\n",
		        r->cancel_reason[0] ? ": " : "", r->cancel_reason, r->cmdline);
		kill(-r->pid, SIGTERM);
		r->kill_at = jw_now() + r->grace;
	}
	json_object_put(o);
}

static void drain_messages(struct run *r)
{
	struct jw_msg *m;
	while(jw_client_next(r->cl, 0, &m)) {
		if(!strcmp(m->topic, r->ctl)) {
			on_control(r, m);
		} else if(ends_with(m->topic, jw_client_id(r->cl))) {
			fprintf(stderr, "jobwire run: the broker refused an event: %s\n", m->payload);
		}
		jw_msg_free(m);
	}
}

/* Runs until the command has exited and its output is read. */
static void supervise(struct run *r)
{
	while(r->fds[0] >= 0 || r->fds[1] >= 0 || !r->exited) {
		if(child_done(r)) {
			break;
		}
		on_tick(r);
		wait_for_input(r);
		for(int s = 0; s < 2; s++) {
			pump_stream(r, s);
		}
		drain_messages(r);
	}
	for(int s = 0; s < 2; s++) {
		if(r->fds[s] >= 0) {
			if(r->linelen[s]) {
				on_line(r, r->line[s], r->linelen[s]);
			}
			close(r->fds[s]);
		}
	}
	if(!r->exited) {
		waitpid(r->pid, &r->status, 0);
	}
	flush_progress(r);
}

static void publish_cancelled(struct run *r, struct json_object *o, struct json_object *details)
{
	char e[400];
	snprintf(e, sizeof(e), "cancelled%s%s", r->cancel_reason[0] ? ": " : "", r->cancel_reason);
	json_object_object_add(o, "error", json_object_new_string(e));
	json_object_object_add(o, "code", json_object_new_string("cancelled"));
	json_object_object_add(o, "retryable", json_object_new_boolean(0));
	if(r->requested_by[0]) {
		json_object_object_add(details, "requested_by", json_object_new_string(r->requested_by));
	}
	json_object_object_add(o, "details", details);
	publish_obj(r, "failed", o, 1);
}

static void publish_complete(struct run *r, struct json_object *o, double dur)
{
	json_object_object_add(o, "duration_s", jw_json_number(dur));
	struct json_object *res = json_object_new_object();
	json_object_object_add(res, "exit_status", json_object_new_int(0));
	json_object_object_add(o, "result", res);
	publish_obj(r, "complete", o, 1);
}

/* failed with the exit status or signal and the last line of stderr. */
static void publish_failed(
        struct run *r, struct json_object *o, struct json_object *details, double dur, int code)
{
	int status = r->status;
	char tail[TAIL_MAX + 1], e[700];
	tail_text(r, tail, sizeof(tail));
	const char *last = strrchr(tail, '\n');
	last = last ? last + 1 : tail;
	if(WIFEXITED(status)) {
		snprintf(e, sizeof(e), "%s exited with status %d%s%.400s", r->cmdline, WEXITSTATUS(status),
		        last[0] ? ": " : "", last);
	} else {
		snprintf(e, sizeof(e), "%s was killed by signal %d (%s)", r->cmdline, WTERMSIG(status),
		        strsignal(WTERMSIG(status)));
	}
	if(!jw_utf8_valid(e, strlen(e), &(size_t){0})) {
		snprintf(e, sizeof(e), "command exited with status %d", code);
	}
	json_object_object_add(o, "error", json_object_new_string(e));
	json_object_object_add(
	        o, "code", json_object_new_string(WIFEXITED(status) ? "exit_status" : "signal"));
	/* With --retries: retryable while a retry would still be honoured,
	 * so a dashboard offers one only then. */
	if(r->retries_left >= 0) {
		json_object_object_add(o, "retryable", json_object_new_boolean(r->retries_left > 0));
	}
	if(tail[0]) {
		json_object_object_add(details, "stderr_tail", json_object_new_string(tail));
	}
	json_object_object_add(details, "duration_s", jw_json_number(dur));
	json_object_object_add(o, "details", details);
	publish_obj(r, "failed", o, 1);
}

/* Publishes how the command ended. Returns its exit status for the
 * wrapper's own (128+N for signal N). */
static int publish_outcome(struct run *r)
{
	int status = r->status;
	double dur = jw_now() - r->t0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	struct json_object *o = json_object_new_object();
	struct json_object *details = json_object_new_object();
	if(WIFEXITED(status)) {
		json_object_object_add(details, "exit_status", json_object_new_int(WEXITSTATUS(status)));
	} else {
		json_object_object_add(details, "signal", json_object_new_int(WTERMSIG(status)));
	}
	if(r->cancelled) {
		publish_cancelled(r, o, details);
	} else if(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		json_object_put(details);
		publish_complete(r, o, dur);
	} else {
		publish_failed(r, o, details, dur, code);
	}
	return code;
}

/* After a failure with retries left: waits for a control retry (the
 * broker accepted it, so the job's next started opens a new attempt).
 * 0 when one came; -1 at the deadline or on a signal. Nothing is
 * published meanwhile: the job is failed, the broker would refuse a
 * heartbeat. */
static int wait_retry(struct run *r, double wait_s)
{
	double deadline = jw_now() + wait_s;
	fprintf(stderr, "jobwire run: failed; waiting up to %gs for a retry request on %s\n", wait_s,
	        r->ctl);
	while(!got_signal && jw_now() < deadline) {
		struct jw_msg *m;
		if(!jw_client_next(r->cl, 0.2, &m)) {
			continue;
		}
		struct json_object *o = NULL, *v;
		struct jw_json_error je;
		int retry = 0;
		if(!strcmp(m->topic, r->ctl) && !jw_json_parse(m->payload, m->len, 32, &o, &je) && o &&
		        json_object_is_type(o, json_type_object) &&
		        json_object_object_get_ex(o, "action", &v) &&
		        !strcmp(json_object_get_string(v), "retry")) {
			retry = 1;
			if(json_object_object_get_ex(o, "requested_by", &v) &&
			        json_object_is_type(v, json_type_string)) {
				fprintf(stderr, "jobwire run: retry requested by %s\n", json_object_get_string(v));
			} else {
				fprintf(stderr, "jobwire run: retry requested\n");
			}
		}
		json_object_put(o);
		jw_msg_free(m);
		if(retry) {
			return 0;
		}
	}
	if(!got_signal) {
		fprintf(stderr, "jobwire run: no retry requested within %gs\n", wait_s);
	}
	return -1;
}

/* Clears what one run of the command left, for the next attempt. */
static void next_attempt(struct run *r)
{
	r->pid = 0;
	r->fds[0] = r->fds[1] = -1;
	r->status = r->exited = 0;
	r->kill_at = -1;
	r->drain_until = -1;
	r->cancelled = 0;
	r->cancel_reason[0] = r->requested_by[0] = '\0';
	r->last_pct = -1;
	r->pending = 0;
	r->step[0] = '\0';
	r->linelen[0] = r->linelen[1] = 0;
	r->tail_len = 0;
	r->retries_left--;
}

int jw_cmd_run(int argc, char **argv)
{
	struct jw_conn conn;
	char err[600];
	struct run_opts o = {
	        getenv("JOBWIRE_SESSION"), getenv("JOBWIRE_JOB"), NULL, 10, 10, 1, 1, -1, 0, 600};
	struct run r;
	memset(&r, 0, sizeof(r));
	r.last_pct = -1;
	r.kill_at = -1;
	r.drain_until = -1;
	r.fds[0] = r.fds[1] = -1;
	if(jw_conn_init(&conn, err, sizeof(err))) {
		jw_errorf("run", "%s", err);
		return JW_EXIT_USAGE;
	}
	int rc = parse_options(argc, argv, &conn, &o);
	if(rc >= 0) {
		return rc;
	}
	if(conn.help) {
		fputs(help, stdout);
		fputs(jw_common_help, stdout);
		return 0;
	}
	if((rc = check_options(&o, argc))) {
		return rc;
	}
	join_cmdline(r.cmdline, sizeof(r.cmdline), argc, argv, o.cmd_at);
	r.parse = o.parse;
	r.hb = o.hb;
	r.grace = o.grace;
	r.retries_left = o.retries > 0 ? o.retries : -1;
	snprintf(r.base, sizeof(r.base), "%s/%s/%s", conn.prefix, o.session, o.job);
	/* The command learns its job and broker (jobwire review uses them). */
	jw_review_export_env(&conn, o.session, o.job);

	if((rc = connect_broker(&r, &conn, o.use_will)) == 0 && (rc = publish_started(&r, &o)) == 0 &&
	        (rc = spawn_command(&r, argv + o.cmd_at)) == 0) {
		catch_signals();
		supervise(&r);
		rc = publish_outcome(&r);
		/* Runs again only when a retry is requested (and accepted). */
		while(rc != 0 && !r.cancelled && r.retries_left > 0 && wait_retry(&r, o.retry_wait) == 0) {
			int rc2;
			next_attempt(&r);
			if((rc2 = publish_started(&r, &o)) != 0 || (rc2 = spawn_command(&r, argv + o.cmd_at))) {
				rc = rc2;
				break;
			}
			supervise(&r);
			rc = publish_outcome(&r);
		}
	}
	jw_client_close(r.cl);
	return rc;
}
