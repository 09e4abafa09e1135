/*
 * jobwire run: wraps a command as a job. Publishes started, heartbeats and
 * progress parsed from the command's output (passed through unchanged),
 * then complete on exit 0 or failed with the exit status and the tail of
 * stderr. A cancel on the job's control topic sends SIGTERM to the
 * command's process group, then SIGKILL after a grace period. A will on
 * the failed topic tells the broker when the wrapper itself dies.
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
#include "topic.h"

static const char help[] =
	"usage: jobwire run --session S --job J [--name N] [--heartbeat SECS] -- CMD [ARGS...]\n"
	"\n"
	"Runs CMD as job S/J: publishes started, a heartbeat every SECS, progress\n"
	"parsed from CMD's stdout and stderr (lines \"PROGRESS 45/100 msg\",\n"
	"\"PROGRESS 45% msg\", \"STEP name\", or any free-standing \"45%\" as printed by\n"
	"curl, wget, rsync, tqdm), then complete on exit 0 or failed with the exit\n"
	"status and the tail of stderr. CMD's output still reaches the terminal.\n"
	"A cancel on jobs/S/J/control sends SIGTERM to CMD, then SIGKILL after --grace.\n"
	"\n"
	"  -s, --session S     [JOBWIRE_SESSION]\n"
	"  -j, --job J         [JOBWIRE_JOB]\n"
	"  -n, --name N        job name shown by dashboards [the command line]\n"
	"      --heartbeat T   heartbeat interval; the broker fails the job after 3\n"
	"                      silent intervals [10s]\n"
	"      --grace T       SIGTERM to SIGKILL on cancel [10s]\n"
	"      --no-progress   do not parse output for progress\n"
	"      --no-will       no will: a killed wrapper is noticed by heartbeat timeout only\n"
	"\n"
	"Exit status: CMD's own (128+N when killed by signal N); 3 cannot connect;\n"
	"64 bad arguments; 1 when the broker refused started (CMD is not run).\n\n";

enum { O_SESSION = 1, O_JOB, O_NAME, O_HB, O_GRACE, O_NOPROG, O_NOWILL };

static const struct jw_opt opts[] = {
	{"session", 's', 1, O_SESSION}, {"job", 'j', 1, O_JOB}, {"name", 'n', 1, O_NAME},
	{"heartbeat", 0, 1, O_HB}, {"grace", 0, 1, O_GRACE}, {"no-progress", 0, 0, O_NOPROG},
	{"no-will", 0, 0, O_NOWILL}, JW_COMMON_OPTS, {NULL, 0, 0, 0},
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

#define TAIL_MAX 2000
#define LINE_MAX_ 4096

struct run {
	struct jw_client *cl;
	char base[400];   /* {prefix}/S/J */
	const char *cmd;
	/* progress */
	double last_pct;  /* last published overall percent, -1 none */
	int pending;      /* a progress report waits for the rate limit */
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
};

static void publish_obj(struct run *r, const char *type, struct json_object *o, int wait)
{
	char topic[512], err[300];
	snprintf(topic, sizeof(topic), "%s/%s", r->base, type);
	const char *p = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int mid, reason;
	if(jw_client_publish(r->cl, topic, p, strlen(p), 1, 0, NULL, NULL, 0, &mid, err, sizeof(err))){
		jw_errorf("run", "%s", err);
	}else if(wait){
		if(jw_client_wait_ack(r->cl, mid, 10, &reason)){
			jw_errorf("run", "no PUBACK for %s within 10 s: the event may be lost", type);
		}else if(reason >= 0x80){
			jw_errorf("run", "the broker refused the %s event (reason 0x%02x)", type, reason);
		}
	}
	r->last_event = jw_now();
	json_object_put(o);
}

static void flush_progress(struct run *r)
{
	if(!r->pending){
		return;
	}
	r->pending = 0;
	struct jw_progress_line *p = &r->pend;
	double pct = p->has_count ? 100.0 * p->current / p->total : p->has_percent ? p->percent : r->last_pct;
	if(pct < 0){
		pct = 0;
	}
	if(pct < r->last_pct){
		/* The broker refuses progress that goes backwards. */
		return;
	}
	struct json_object *o = json_object_new_object();
	if(p->has_count){
		json_object_object_add(o, "current", jw_json_number(p->current));
		json_object_object_add(o, "total", jw_json_number(p->total));
	}else{
		json_object_object_add(o, "progress", jw_json_number(pct));
	}
	if(r->step[0]){
		json_object_object_add(o, "step", json_object_new_string(r->step));
	}
	if(p->message[0]){
		json_object_object_add(o, "message", json_object_new_string(p->message));
	}
	r->last_pct = pct;
	r->last_pub = jw_now();
	publish_obj(r, "progress", o, 0);
}

static void on_line(struct run *r, const char *line, size_t len)
{
	struct jw_progress_line p;
	if(!r->parse || !jw_progress_line_parse(line, len, &p)){
		return;
	}
	/* Only UTF-8 reaches the broker (it refuses anything else). */
	if(!jw_utf8_valid(p.message, strlen(p.message), &(size_t){0})){
		p.message[0] = '\0';
	}
	if(p.step[0]){
		if(!jw_utf8_valid(p.step, strlen(p.step), &(size_t){0})){
			return;
		}
		snprintf(r->step, sizeof(r->step), "%s", p.step);
	}
	if(!p.has_percent && !p.has_count && r->pending){
		/* A step line keeps the figures already waiting. */
		if(p.message[0]){
			snprintf(r->pend.message, sizeof(r->pend.message), "%s", p.message);
		}
		return;
	}
	r->pend = p;
	r->pending = 1;
	if(jw_now() - r->last_pub >= 0.25){
		flush_progress(r);
	}
}

static void on_output(struct run *r, int stream, const char *buf, size_t n)
{
	if(stream == 1){
		for(size_t i = 0; i < n; i++){
			r->tail[(r->tail_len + i) % TAIL_MAX] = buf[i];
		}
		r->tail_len += n;
	}
	for(size_t i = 0; i < n; i++){
		char c = buf[i];
		if(c == '\n' || c == '\r' || r->linelen[stream] == LINE_MAX_ - 1){
			on_line(r, r->line[stream], r->linelen[stream]);
			r->linelen[stream] = 0;
			if(c == '\n' || c == '\r'){
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
	for(size_t i = 0; i < n && k + 1 < cap; i++){
		char ch = r->tail[(start + i) % TAIL_MAX];
		out[k++] = ch ? ch : ' ';
	}
	out[k] = '\0';
	if(r->tail_len > TAIL_MAX){
		char *nl = strchr(out, '\n');
		if(nl){
			memmove(out, nl + 1, strlen(nl + 1) + 1);
		}
	}
	k = strlen(out);
	while(k > 0 && (out[k - 1] == '\n' || out[k - 1] == '\r')){
		out[--k] = '\0';
	}
	if(!jw_utf8_valid(out, k, &(size_t){0})){
		for(size_t i = 0; i < k; i++){
			if((unsigned char)out[i] >= 0x80){
				out[i] = '?';
			}
		}
	}
	for(size_t i = 0; i < k; i++){
		if((unsigned char)out[i] < 0x20 && out[i] != '\n' && out[i] != '\t'){
			out[i] = ' ';
		}
	}
}

static void add_load(struct json_object *o)
{
	double load[1];
	if(getloadavg(load, 1) == 1){
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

int jw_cmd_run(int argc, char **argv)
{
	const char *cmd = "run";
	struct jw_conn conn;
	char err[600];
	const char *session = getenv("JOBWIRE_SESSION"), *job = getenv("JOBWIRE_JOB"), *name = NULL;
	double hb = 10, grace = 10;
	int use_will = 1, parse = 1;
	struct run r;
	memset(&r, 0, sizeof(r));
	r.last_pct = -1;
	if(jw_conn_init(&conn, err, sizeof(err))){
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	struct jw_args a;
	jw_args_init(&a, argc, argv);
	int id, cmd_at = -1;
	while(cmd_at < 0 && (id = jw_args_next(&a, opts)) != JW_ARGS_END){
		switch(id){
		case JW_ARGS_ERROR: jw_errorf(cmd, "%s (see --help)", a.err); return JW_EXIT_USAGE;
		case JW_ARGS_DASHDASH: cmd_at = a.i; break;
		case JW_ARGS_POSITIONAL: cmd_at = a.i - 1; break;
		case O_SESSION: session = a.value; break;
		case O_JOB: job = a.value; break;
		case O_NAME: name = a.value; break;
		case O_HB:
			if(jw_parse_duration(a.value, &hb, err, sizeof(err)) || hb < 1 || hb > 86400){
				jw_errorf(cmd, "--heartbeat: %s", hb < 1 || hb > 86400 ? "must be 1s to 1d" : err);
				return JW_EXIT_USAGE;
			}
			break;
		case O_GRACE:
			if(jw_parse_duration(a.value, &grace, err, sizeof(err))){
				jw_errorf(cmd, "--grace: %s", err);
				return JW_EXIT_USAGE;
			}
			break;
		case O_NOPROG: parse = 0; break;
		case O_NOWILL: use_will = 0; break;
		default:
			if(jw_conn_option(&conn, id, a.value, err, sizeof(err)) < 0){
				jw_errorf(cmd, "%s", err);
				return JW_EXIT_USAGE;
			}
		}
	}
	if(conn.help){
		fputs(help, stdout);
		fputs(jw_common_help, stdout);
		return 0;
	}
	if(!session || !job || cmd_at < 0 || cmd_at >= argc){
		jw_errorf(cmd, "need --session, --job and a command after -- (see --help)");
		return JW_EXIT_USAGE;
	}
	if(!jw_topic_id_valid(session) || !jw_topic_id_valid(job)){
		jw_errorf(cmd, "--session and --job must be 1-128 characters of A-Z a-z 0-9 . _ -");
		return JW_EXIT_USAGE;
	}
	char **child_argv = argv + cmd_at;
	char cmdline[200];
	size_t k = 0;
	cmdline[0] = '\0';
	for(int i = cmd_at; i < argc && k + 2 < sizeof(cmdline); i++){
		int w = snprintf(cmdline + k, sizeof(cmdline) - k, "%s%s", i > cmd_at ? " " : "", argv[i]);
		k += w > 0 ? (size_t)w : 0;
	}
	if(k >= sizeof(cmdline)){
		k = sizeof(cmdline) - 1;
	}
	if(!jw_utf8_valid(cmdline, strlen(cmdline), &(size_t){0})){
		snprintf(cmdline, sizeof(cmdline), "%s", "command");
	}
	if(name && (!*name || strlen(name) > 200 || !jw_utf8_valid(name, strlen(name), &(size_t){0}))){
		jw_errorf(cmd, "--name must be 1-200 bytes of UTF-8");
		return JW_EXIT_USAGE;
	}
	r.parse = parse;
	r.cmd = cmdline;
	snprintf(r.base, sizeof(r.base), "%s/%s/%s", conn.prefix, session, job);

	/* The will is a valid failed event, so the broker accepts it and the
	 * job fails at once when the wrapper is killed or cut off. */
	char will_topic[512], will_payload[600];
	snprintf(will_topic, sizeof(will_topic), "%s/failed", r.base);
	struct json_object *wo = json_object_new_object();
	json_object_object_add(wo, "error", json_object_new_string(
		"the jobwire run wrapper lost its connection to the broker (killed, crashed or network failure)"));
	json_object_object_add(wo, "code", json_object_new_string("worker_lost"));
	json_object_object_add(wo, "retryable", json_object_new_boolean(1));
	snprintf(will_payload, sizeof(will_payload), "%s", json_object_to_json_string_ext(wo, JSON_C_TO_STRING_PLAIN));
	json_object_put(wo);
	struct jw_will will = {will_topic, will_payload, 1, 0};

	if(jw_client_open(&conn, use_will ? &will : NULL, &r.cl, err, sizeof(err))){
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_CONNECT;
	}
	char ctl[512], rej[300];
	snprintf(ctl, sizeof(ctl), "%s/control", r.base);
	snprintf(rej, sizeof(rej), "$jobwire/rejections/%s", jw_client_id(r.cl));
	if(jw_client_subscribe(r.cl, ctl, err, sizeof(err)) || jw_client_subscribe(r.cl, rej, err, sizeof(err))){
		jw_errorf(cmd, "%s", err);
		jw_client_close(r.cl);
		return JW_EXIT_CONNECT;
	}

	struct json_object *st = json_object_new_object();
	json_object_object_add(st, "name", json_object_new_string(name ? name : cmdline));
	json_object_object_add(st, "heartbeat_interval_s", jw_json_number(hb));
	char worker[200], host[64] = "host";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(worker, sizeof(worker), "%s pid %ld", host, (long)getpid());
	if(jw_utf8_valid(worker, strlen(worker), &(size_t){0})){
		json_object_object_add(st, "worker", json_object_new_string(worker));
	}
	struct json_object *md = json_object_new_object();
	json_object_object_add(md, "command", json_object_new_string(cmdline));
	json_object_object_add(st, "metadata", md);
	{
		char topic[512];
		snprintf(topic, sizeof(topic), "%s/started", r.base);
		const char *p = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		int mid, reason = 0;
		if(jw_client_publish(r.cl, topic, p, strlen(p), 1, 0, NULL, NULL, 0, &mid, err, sizeof(err))
		   || jw_client_wait_ack(r.cl, mid, 10, &reason) || reason >= 0x80){
			struct jw_msg *m;
			jw_errorf(cmd, "the broker did not accept started for %s/%s; not running the command", session, job);
			if(jw_client_next(r.cl, 2, &m)){
				jw_errorf(cmd, "notice: %s", m->payload);
				jw_msg_free(m);
			}
			json_object_put(st);
			jw_client_close(r.cl);
			return JW_EXIT_FAILED;
		}
	}
	json_object_put(st);
	r.last_event = jw_now();

	int out_pipe[2], err_pipe[2];
	if(pipe(out_pipe) || pipe(err_pipe)){
		jw_errorf(cmd, "pipe: %s", strerror(errno));
		jw_client_close(r.cl);
		return JW_EXIT_SOFTWARE;
	}
	double t0 = jw_now();
	pid_t pid = fork();
	if(pid < 0){
		jw_errorf(cmd, "fork: %s", strerror(errno));
		jw_client_close(r.cl);
		return JW_EXIT_SOFTWARE;
	}
	if(pid == 0){
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
	setpgid(pid, pid);
	close(out_pipe[1]);
	close(err_pipe[1]);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	int fds[2] = {out_pipe[0], err_pipe[0]};
	int status = 0, exited = 0, cancelled = 0;
	double kill_at = -1, drain_until = -1;
	char cancel_reason[300] = "", requested_by[201] = "";
	while(fds[0] >= 0 || fds[1] >= 0 || !exited){
		if(!exited && waitpid(pid, &status, WNOHANG) == pid){
			exited = 1;
			/* Grandchildren may hold the pipes: read what is left briefly. */
			drain_until = jw_now() + 1.0;
		}
		if(exited && jw_now() > drain_until){
			break;
		}
		if(got_signal && !exited){
			kill(-pid, got_signal);
			got_signal = 0;
		}
		if(kill_at >= 0 && !exited && jw_now() >= kill_at){
			fprintf(stderr, "jobwire run: %s still running %gs after SIGTERM: SIGKILL\n", cmdline, grace);
			kill(-pid, SIGKILL);
			kill_at = -1;
		}
		if(jw_now() - r.last_event >= hb){
			struct json_object *o = json_object_new_object();
			add_load(o);
			publish_obj(&r, "heartbeat", o, 0);
		}
		if(r.pending && jw_now() - r.last_pub >= 0.25){
			flush_progress(&r);
		}
		struct pollfd p[3];
		int np = 0;
		for(int s = 0; s < 2; s++){
			if(fds[s] >= 0){
				p[np].fd = fds[s];
				p[np].events = POLLIN;
				np++;
			}
		}
		p[np].fd = jw_client_fd(r.cl);
		p[np].events = POLLIN;
		np++;
		poll(p, (nfds_t)np, 100);
		for(int s = 0; s < 2; s++){
			if(fds[s] < 0){
				continue;
			}
			char buf[8192];
			struct pollfd q = {fds[s], POLLIN, 0};
			if(poll(&q, 1, 0) <= 0){
				continue;
			}
			ssize_t n = read(fds[s], buf, sizeof(buf));
			if(n <= 0){
				if(n < 0 && errno == EINTR){
					continue;
				}
				close(fds[s]);
				fds[s] = -1;
				continue;
			}
			/* Pass the output through unchanged. */
			size_t off = 0;
			while(off < (size_t)n){
				ssize_t w = write(s == 0 ? STDOUT_FILENO : STDERR_FILENO, buf + off, (size_t)n - off);
				if(w <= 0){
					break;
				}
				off += (size_t)w;
			}
			on_output(&r, s, buf, (size_t)n);
		}
		struct jw_msg *m;
		while(jw_client_next(r.cl, 0, &m)){
			if(!strcmp(m->topic, ctl)){
				struct json_object *o = NULL, *v;
				struct jw_json_error je;
				if(!jw_json_parse(m->payload, m->len, 32, &o, &je) && o && json_object_is_type(o, json_type_object)
				   && json_object_object_get_ex(o, "action", &v) && !strcmp(json_object_get_string(v), "cancel")
				   && !cancelled && !exited){
					cancelled = 1;
					if(json_object_object_get_ex(o, "reason", &v) && json_object_is_type(v, json_type_string)){
						snprintf(cancel_reason, sizeof(cancel_reason), "%s", json_object_get_string(v));
					}
					if(json_object_object_get_ex(o, "requested_by", &v) && json_object_is_type(v, json_type_string)){
						snprintf(requested_by, sizeof(requested_by), "%s", json_object_get_string(v));
					}
					fprintf(stderr, "jobwire run: cancel requested%s%s: SIGTERM to %s\n",
					        cancel_reason[0] ? ": " : "", cancel_reason, cmdline);
					kill(-pid, SIGTERM);
					kill_at = jw_now() + grace;
				}
				json_object_put(o);
			}else if(ends_with(m->topic, jw_client_id(r.cl))){
				fprintf(stderr, "jobwire run: the broker refused an event: %s\n", m->payload);
			}
			jw_msg_free(m);
		}
	}
	for(int s = 0; s < 2; s++){
		if(fds[s] >= 0){
			if(r.linelen[s]){
				on_line(&r, r.line[s], r.linelen[s]);
			}
			close(fds[s]);
		}
	}
	if(!exited){
		waitpid(pid, &status, 0);
	}
	flush_progress(&r);
	double dur = jw_now() - t0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	char tail[TAIL_MAX + 1];
	tail_text(&r, tail, sizeof(tail));
	struct json_object *o = json_object_new_object();
	struct json_object *details = json_object_new_object();
	if(WIFEXITED(status)){
		json_object_object_add(details, "exit_status", json_object_new_int(WEXITSTATUS(status)));
	}else{
		json_object_object_add(details, "signal", json_object_new_int(WTERMSIG(status)));
	}
	if(cancelled){
		char e[400];
		snprintf(e, sizeof(e), "cancelled%s%s", cancel_reason[0] ? ": " : "", cancel_reason);
		json_object_object_add(o, "error", json_object_new_string(e));
		json_object_object_add(o, "code", json_object_new_string("cancelled"));
		json_object_object_add(o, "retryable", json_object_new_boolean(0));
		if(requested_by[0]){
			json_object_object_add(details, "requested_by", json_object_new_string(requested_by));
		}
		json_object_object_add(o, "details", details);
		publish_obj(&r, "failed", o, 1);
	}else if(WIFEXITED(status) && WEXITSTATUS(status) == 0){
		json_object_put(details);
		json_object_object_add(o, "duration_s", jw_json_number(dur));
		struct json_object *res = json_object_new_object();
		json_object_object_add(res, "exit_status", json_object_new_int(0));
		json_object_object_add(o, "result", res);
		publish_obj(&r, "complete", o, 1);
	}else{
		char e[700];
		const char *last = strrchr(tail, '\n');
		last = last ? last + 1 : tail;
		if(WIFEXITED(status)){
			snprintf(e, sizeof(e), "%s exited with status %d%s%.400s", cmdline, WEXITSTATUS(status),
			         last[0] ? ": " : "", last);
		}else{
			snprintf(e, sizeof(e), "%s was killed by signal %d (%s)", cmdline, WTERMSIG(status),
			         strsignal(WTERMSIG(status)));
		}
		if(!jw_utf8_valid(e, strlen(e), &(size_t){0})){
			snprintf(e, sizeof(e), "command exited with status %d", code);
		}
		json_object_object_add(o, "error", json_object_new_string(e));
		json_object_object_add(o, "code", json_object_new_string(WIFEXITED(status) ? "exit_status" : "signal"));
		if(tail[0]){
			json_object_object_add(details, "stderr_tail", json_object_new_string(tail));
		}
		json_object_object_add(details, "duration_s", jw_json_number(dur));
		json_object_object_add(o, "details", details);
		publish_obj(&r, "failed", o, 1);
	}
	jw_client_close(r.cl);
	return code;
}
