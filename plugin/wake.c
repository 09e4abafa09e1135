/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Waking the broker's loop when held work falls due. A state update held
 * by the coalescing rule is due at the end of its job's interval, and the
 * plugin can only publish it in a TICK, at the end of a pass of the
 * broker's loop. An idle 2.0 broker starts a pass when a packet arrives
 * or after at most 100 ms in epoll_wait, so a held update could wait up
 * to 100 ms past its due time.
 *
 * What the broker offers to end that wait early:
 * - 2.1 reads the TICK's next_s / next_ms back after each callback and
 *   waits no longer than that in epoll_wait (src/plugin_tick.c,
 *   loop__update_next_event). 2.0 has the same fields (next_s, next_ns)
 *   and ignores them; they are set on every line.
 * - 2.0 tolerates EINTR from epoll_wait: an interrupted wait is a pass
 *   with no packets (src/mux_epoll.c), and it unblocks every signal but
 *   its own five while it waits. A one-shot POSIX timer delivers a
 *   real-time signal with an empty handler to the broker thread alone
 *   (SIGEV_THREAD_ID) at the due time: the wait ends, the loop passes,
 *   the TICK publishes the update and the next pass sends it.
 *
 * A signal that comes while the broker is busy ends no wait, and one that
 * comes just before it enters epoll_wait is lost to it; nor does one pass
 * always finish the writes to thousands of WebSocket subscribers. So each
 * wake is a chain: the handler sends 15 more shots 1 ms apart (a pass that
 * writes to 5,000 WebSocket subscribers takes tens of ms, and the wait that
 * follows should end within a millisecond), then shots 2, 4 ... 64 ms apart,
 * and a new wake starts a new chain. A chain is at most 22 signals over
 * about 140 ms, however slow the passes (valgrind runs a broker 20 to 50
 * times slower: a timer repeating every millisecond until the next TICK
 * kept the broker busy with its signals there). And a chain stops at the
 * TICK that ends the pass it was for: every shot that ends a wait costs
 * a pass, and with 10,000 WebSocket clients a pass polls every one of
 * their sockets (about 1.7 ms; letting chains run on doubled the broker's
 * CPU at 200 events/s).
 *
 * A message the plugin publishes has the same problem on the way out: the
 * broker only queues it, and takes it from the queue at the top of its next
 * pass. A TCP subscriber is written to there and then, but a WebSocket one
 * only when libwebsockets is serviced, after the next epoll_wait: up to
 * 100 ms later on an idle broker (bench/ws_fanout.sh: state p50 104 ms
 * against 3 ms for the raw events, 200 subscribers). So after a pass in
 * which the plugin queued anything, the TICK asks 2.1 for a 1 ms wait and
 * on 2.0 starts a chain 1 ms ahead (queueing to thousands of subscribers
 * takes a while, so its first shot may come too early). When passes that
 * queue something come more often than every 8 ms (counted over 100 ms
 * windows), the next one will most likely carry the message out first:
 * the first shot is then 8 ms ahead, and the chain stops at that pass's
 * TICK without a shot. (With 1 ms always, 10,000 WebSocket browsers and 200
 * events/s, the extra pass per event nearly doubled the broker's CPU.)
 *
 * The handler is installed with SA_RESTART, so no other call of the broker
 * thread sees EINTR (epoll_wait always does, whatever SA_RESTART says).
 * The signal is the first of SIGRTMIN+6 .. SIGRTMAX-2 with no handler yet;
 * when none is free, or the timer cannot be made, the loop is not woken
 * (held updates then go out within 100 ms of their due time) and the log
 * says so. Broker thread only.
 */
#define _GNU_SOURCE /* SIGEV_THREAD_ID, gettid */
#include "plugin.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "broker_api.h"

/* The longest a 2.0 broker waits in epoll_wait: nothing sooner than this
 * from now needs the timer. Also the most a TICK asks 2.1 to wait, so
 * the tick's other work (the writers' answers, health, stats) runs as
 * often as on 2.0. */
#define LOOP_WAIT_MS 100

/* After a pass that queued a message: the wait before the first shot when
 * such passes come more often than every NUDGE_BUSY_MS (the next one will
 * most likely carry the message out first, and the chain then stops
 * without a shot), and otherwise. Counted over windows of WINDOW_MS. */
#define NUDGE_BUSY_MS 8
#define NUDGE_IDLE_MS 1
#define WINDOW_MS 100

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* The timer and how many shots its chain has sent plus one, for the
 * handler (which cannot reach the plugin): 0 when no chain runs. Broker
 * thread only, the handler included. */
static timer_t chain_timer;
static volatile sig_atomic_t chain_shots;

/* Shots 2 to 16 of a chain come 1 ms apart, then 2, 4 ... 64 ms apart.
 * timer_settime is async-signal-safe. */
static void on_wake_signal(int sig)
{
	int saved = errno;
	sig_atomic_t n = chain_shots;
	long gap;

	(void)sig;
	if(n > 0) {
		gap = n < 16 ? 1 : 1L << (n - 15);
		if(gap < LOOP_WAIT_MS) {
			struct itimerspec its;

			memset(&its, 0, sizeof(its));
			its.it_value.tv_nsec = gap * 1000000L;
			chain_shots = n + 1;
			timer_settime(chain_timer, 0, &its, NULL);
		} else {
			chain_shots = 0;
		}
	}
	errno = saved;
}

/* The first real-time signal at or after SIGRTMIN+6 nobody handles, or 0. */
static int free_signal(void)
{
	for(int sig = SIGRTMIN + 6; sig <= SIGRTMAX - 2; sig++) {
		struct sigaction old;

		if(sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
		        !(old.sa_flags & SA_SIGINFO)) {
			return sig;
		}
	}
	return 0;
}

void jw_wake__init(struct jw_wake *w)
{
	struct sigaction sa;
	struct sigevent sev;
	int sig = free_signal();

	memset(w, 0, sizeof(*w));
	if(!sig) {
		mosquitto_log_printf(MOSQ_LOG_WARNING,
		        "jobwire: no free real-time signal: held state updates go out at the broker's "
		        "next loop pass (within 100 ms of their due time)");
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_wake_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if(sigaction(sig, &sa, NULL) != 0) {
		return;
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = sig;
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if(timer_create(CLOCK_MONOTONIC, &sev, &w->timer) != 0) {
		mosquitto_log_printf(MOSQ_LOG_WARNING,
		        "jobwire: cannot create the loop's wake-up timer (%s): held state updates go out "
		        "at "
		        "the broker's next loop pass (within 100 ms of their due time)",
		        strerror(errno));
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
		return;
	}
	w->signo = sig;
	w->on = true;
	chain_timer = w->timer;
	mosquitto_log_printf(MOSQ_LOG_INFO,
	        "jobwire: held state updates wake the broker's loop at their due time (signal %d, "
	        "SIGRTMIN+%d)",
	        sig, sig - SIGRTMIN);
}

void jw_wake__cleanup(struct jw_wake *w)
{
	struct sigaction sa;

	if(!w->on) {
		return;
	}
	/* After timer_delete no new signal comes; one already sent to this
	 * thread was delivered before the call returned. Ignoring the signal
	 * (rather than its default, which ends the process) keeps a late one
	 * harmless once the plugin is unloaded. */
	chain_shots = 0;
	timer_delete(w->timer);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(w->signo, &sa, NULL);
	w->on = false;
}

/* Stops a chain (the pass it was for has come) and, with its first shot
 * at its (relative or TIMER_ABSTIME) time, starts a new one. */
static void start_chain(struct jw_wake *w, int flags, int64_t at_ms, int64_t armed_ms)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(at_ms / 1000);
	its.it_value.tv_nsec = (long)(at_ms % 1000) * 1000000L;
	chain_shots = 1;
	if(timer_settime(w->timer, flags, &its, NULL) == 0) {
		w->armed_ms = armed_ms;
		w->wakes++;
	}
}

/* Stops the chain: the pass it was for has come. Each further shot would
 * only cost a pass of the broker's loop, which with thousands of
 * WebSocket clients polls every one of their sockets. */
static void stop_chain(struct jw_wake *w)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	chain_shots = 0;
	(void)timer_settime(w->timer, 0, &its, NULL);
	w->armed_ms = 0;
}

/* Counts a pass that queued a message; at the end of each window,
 * whether they came more often than every NUDGE_BUSY_MS. (Every pass
 * counted would not do: with the wake on, most passes start with a shot,
 * whether or not a packet would have started them.) */
static void count_pass(struct jw_wake *w, int64_t now_ms, bool queued)
{
	int64_t len = now_ms - w->win_start_ms;

	if(queued) {
		w->win_queued++;
	}
	if(len < WINDOW_MS) {
		return;
	}
	w->busy = (int64_t)w->win_queued * NUDGE_BUSY_MS > len;
	w->win_start_ms = now_ms;
	w->win_queued = 0;
}

void jw_wake__after_tick(
        struct jw_wake *w, void *event_data, int64_t now_ms, int64_t next_ms, int64_t due_ms)
{
	struct mosquitto_evt_tick *ed = event_data;
	bool queued = w->queued;
	int64_t nudge_ms;
	int64_t wait;

	count_pass(w, now_ms, queued);
	nudge_ms = w->busy ? NUDGE_BUSY_MS : NUDGE_IDLE_MS;
	wait = next_ms - now_ms;
	if(queued && nudge_ms < wait) {
		wait = nudge_ms;
	}
	w->queued = false;
	if(wait > LOOP_WAIT_MS) {
		wait = LOOP_WAIT_MS;
	}
	if(wait < 1) {
		wait = 1;
	}
	/* 2.1: the longest the next epoll_wait may last (next_ms there; the
	 * same slot is 2.0's next_ns, which 2.0 ignores). */
	if(ed) {
		ed->next_s = 0;
#if JW_MOSQ_21
		ed->next_ms = (long)wait;
#else
		ed->next_ns = (long)wait;
#endif
	}
	if(!w->on) {
		return;
	}
	if(queued) {
		/* What this pass queued goes out at the next one, which must
		 * not start with a sleep; nor sleep past a held update due
		 * sooner than the nudge. */
		int64_t at = nudge_ms;

		if(due_ms > now_ms && due_ms - now_ms < at) {
			at = due_ms - now_ms;
		}
		start_chain(w, 0, at, now_ms + at);
		w->nudge = true;
		return;
	}
	/* This TICK ends a pass: the one a nudge was for (its messages went
	 * out at its top), or one after a held update's due time (the update
	 * was published in it, and so queued: a nudge follows). */
	if(chain_shots != 0 && (w->nudge || now_ms >= w->armed_ms)) {
		stop_chain(w);
	}
	if(due_ms > now_ms && due_ms - now_ms < LOOP_WAIT_MS) {
		/* A held update falls due before the wait would end. A first
		 * shot at or before it still to come serves as well. */
		if(chain_shots != 0 && w->armed_ms > now_ms && w->armed_ms <= due_ms) {
			chain_shots = 1;
			return;
		}
		start_chain(w, TIMER_ABSTIME, due_ms, due_ms);
		w->nudge = false;
		return;
	}
}

int jw_wake__publish(struct jw_plugin *p, const char *topic, int payloadlen, void *payload, int qos,
        bool retain, mosquitto_property *properties)
{
	int rc = mosquitto_broker_publish(NULL, topic, payloadlen, payload, qos, retain, properties);

	if(rc == MOSQ_ERR_SUCCESS) {
		p->wake.queued = true;
	}
	return rc;
}
