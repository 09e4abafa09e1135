/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Proves what the order of the broker's events says each write check was
 * (core/sequence.h), with the orders mosquitto 2.0 produces
 * (docs/design.md, "Telling a will from a publish"): a PUBLISH, a will
 * right after its client's DISCONNECT, a delayed or takeover will known
 * by its copy's deliveries, one with no subscriber, a resumed session's
 * stored messages, a retained message's replay, an acknowledged
 * duplicate and held QoS 2 repeats. Clients and buffers are plain
 * addresses: the rules compare them and never read them.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "sequence.h"
#include "util_check.h"

static char client_a[1], client_b[1];

#define TOPIC "jobs/s1/j1/complete"
#define BYTES "{\"type\":\"complete\"}"

/* A write check by client of payload on topic. */
static struct jw_seq_check write_of(const void *client, const char *id, const void *payload)
{
	struct jw_seq_check c = {client, id, TOPIC, payload, sizeof(BYTES) - 1, false};

	return c;
}

/* A read check of payload (bytes as given) on topic. */
static struct jw_seq_check read_of(const char *topic, const void *payload, uint32_t len)
{
	struct jw_seq_check c = {client_b, NULL, topic, payload, len, false};

	return c;
}

/* A write check, as the plugin feeds it: settle, other event, checked. */
static enum jw_seq_write_kind write_check(
        struct jw_seq *s, const struct jw_seq_check *c, bool valid)
{
	struct jw_seq_prev prev;

	ck_assert(!jw_seq_must_settle(s));
	prev = jw_seq_other(s);
	ck_assert(!jw_seq_write_replayed(s, &prev, c));
	return jw_seq_write_checked(s, &prev, c, valid, true);
}

START_TEST(publish)
{
	struct jw_seq s;
	char buf[] = BYTES;
	struct jw_seq_check c = write_of(client_a, "w1", buf);

	jw_seq_init(&s, true);
	ck_assert_int_eq(write_check(&s, &c, true), JW_SEQ_PENDING);
	jw_seq_kept(&s);
	(void)jw_seq_other(&s);
	/* MESSAGE of the same client and buffer: the PUBLISH, not pending. */
	ck_assert(jw_seq_message(&s, client_a, buf));
	ck_assert(!s.w.active);
	ck_assert(!jw_seq_must_settle(&s));
	/* Another client's MESSAGE of that buffer is not its. */
	ck_assert_int_eq(write_check(&s, &c, true), JW_SEQ_PENDING);
	ck_assert(!jw_seq_message(&s, client_b, buf));
	ck_assert(s.w.active);
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(valid_other_topic)
{
	struct jw_seq s;
	char buf[] = "hello";
	struct jw_seq_check c = {client_a, "w1", "lab/notes", buf, 5, false};
	struct jw_seq_prev prev;

	jw_seq_init(&s, true);
	prev = jw_seq_other(&s);
	ck_assert_int_eq(jw_seq_write_checked(&s, &prev, &c, true, false), JW_SEQ_PLAIN);
	/* Only MESSAGE matches it; anything else settles nothing. */
	ck_assert(!jw_seq_must_settle(&s));
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(will_after_disconnect)
{
	struct jw_seq s;
	char buf[] = BYTES;
	struct jw_seq_check c = write_of(client_a, "w1", buf);
	struct jw_seq_check other = write_of(client_b, "w2", buf);
	struct jw_seq_prev prev;

	jw_seq_init(&s, false);
	(void)jw_seq_other(&s);
	jw_seq_disconnect(&s, client_a, "w1");
	/* The write check right after its client's DISCONNECT: a will, known
	 * there, valid or not. */
	prev = jw_seq_other(&s);
	ck_assert_int_eq(jw_seq_write_checked(&s, &prev, &c, true, true), JW_SEQ_WILL_NOW);
	ck_assert(!s.w.active);
	(void)jw_seq_other(&s);
	jw_seq_disconnect(&s, client_a, "w1");
	prev = jw_seq_other(&s);
	ck_assert_int_eq(jw_seq_write_checked(&s, &prev, &c, false, true), JW_SEQ_WILL_NOW);
	/* Another client's write check then is not that will. */
	(void)jw_seq_other(&s);
	jw_seq_disconnect(&s, client_a, "w1");
	prev = jw_seq_other(&s);
	ck_assert_int_eq(jw_seq_write_checked(&s, &prev, &other, true, true), JW_SEQ_PENDING);
	/* Nor is a write check one event later. */
	jw_seq_disconnect(&s, client_a, "w1");
	(void)jw_seq_other(&s);
	ck_assert_int_eq(write_check(&s, &c, true), JW_SEQ_PENDING);
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(will_known_by_its_copy)
{
	struct jw_seq s;
	char buf[] = BYTES, copy[] = BYTES, later[] = BYTES;
	struct jw_seq_check c = write_of(client_a, "w1", buf);
	struct jw_seq_check r = read_of(TOPIC, copy, sizeof(BYTES) - 1);

	/* A delayed will: its write check, then its copy's read checks. */
	jw_seq_init(&s, false);
	ck_assert_int_eq(write_check(&s, &c, true), JW_SEQ_PENDING);
	jw_seq_kept(&s);
	ck_assert(jw_seq_must_settle(&s));
	ck_assert_int_eq(jw_seq_settle(&s, &r, TOPIC, BYTES), JW_SEQ_WILL_QUEUED);
	/* Refused by the job table: every delivery of the copy is denied,
	 * until an event of another kind. */
	jw_seq_suppress(&s, copy);
	ck_assert(jw_seq_read(&s, &r));
	ck_assert(jw_seq_read(&s, &r));
	r.payload = later;
	ck_assert(!jw_seq_read(&s, &r));
	r.payload = copy;
	(void)jw_seq_other(&s);
	ck_assert(!jw_seq_read(&s, &r));
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(read_of_something_else)
{
	struct jw_seq s;
	char buf[] = BYTES, copy[] = "{\"type\":\"failed\"}";
	struct jw_seq_check c = write_of(client_a, "w1", buf);
	struct jw_seq_check r = read_of(TOPIC, copy, sizeof(copy) - 1);
	struct jw_seq_check r2 = read_of("jobs/s1/j2/complete", buf, sizeof(BYTES) - 1);

	/* Other bytes or another topic: not the copy. With an acl_file after
	 * jobwire the write may have been a refused PUBLISH: dropped. */
	jw_seq_init(&s, false);
	ck_assert_int_eq(write_check(&s, &c, true), JW_SEQ_PENDING);
	jw_seq_kept(&s);
	ck_assert(jw_seq_must_settle(&s));
	ck_assert_int_eq(jw_seq_settle(&s, &r, TOPIC, BYTES), JW_SEQ_DROP);
	ck_assert_int_eq(jw_seq_settle(&s, &r2, TOPIC, BYTES), JW_SEQ_DROP);
	ck_assert_int_eq(jw_seq_settle(&s, NULL, TOPIC, BYTES), JW_SEQ_DROP);
	jw_seq_cleanup(&s);
	/* jobwire's answer is the broker's: only a will can end so. */
	jw_seq_init(&s, true);
	ck_assert_int_eq(jw_seq_settle(&s, &r, TOPIC, BYTES), JW_SEQ_WILL);
	ck_assert_int_eq(jw_seq_settle(&s, NULL, TOPIC, BYTES), JW_SEQ_WILL);
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(nothing_to_settle)
{
	struct jw_seq s;
	char buf[] = BYTES;
	struct jw_seq_check c = write_of(client_a, "w1", buf);

	jw_seq_init(&s, true);
	/* Bytes not kept (out of memory): nothing can be applied. */
	ck_assert_int_eq(write_check(&s, &c, true), JW_SEQ_PENDING);
	ck_assert(!jw_seq_must_settle(&s));
	ck_assert(!s.w.active);
	/* An invalid write on a topic jobwire does not check is settled (its
	 * refusal is a will's notice). */
	{
		struct jw_seq_prev prev = jw_seq_other(&s);

		ck_assert_int_eq(jw_seq_write_checked(&s, &prev, &c, false, false), JW_SEQ_PENDING);
	}
	jw_seq_kept(&s);
	ck_assert(jw_seq_must_settle(&s));
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(retained_refused_at_check)
{
	struct jw_seq s;
	char buf[] = BYTES;
	struct jw_seq_check c = write_of(client_a, "w1", buf);

	jw_seq_init(&s, true);
	c.retain = true;
	ck_assert_int_eq(write_check(&s, &c, false), JW_SEQ_REFUSE_NOW);
	ck_assert(!s.w.active);
	/* Valid and retained: pending like any other. */
	ck_assert_int_eq(write_check(&s, &c, true), JW_SEQ_PENDING);
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(session_replays)
{
	struct jw_seq s;
	char buf[] = BYTES;
	struct jw_seq_check c = write_of(client_b, "w1", buf);
	struct jw_seq_check d = write_of(client_b, "w9", buf);
	struct jw_seq_prev prev;

	/* Takeover: the old connection's DISCONNECT, then the new one's
	 * (same id) write checks of its session's stored messages. */
	jw_seq_init(&s, true);
	(void)jw_seq_other(&s);
	jw_seq_disconnect(&s, client_a, "w1");
	prev = jw_seq_other(&s);
	ck_assert_int_eq(jw_seq_write_checked(&s, &prev, &c, true, true), JW_SEQ_REPLAY);
	ck_assert(!jw_seq_must_settle(&s));
	/* Every write check of that connection in the same pass. */
	ck_assert_int_eq(write_check(&s, &c, true), JW_SEQ_REPLAY);
	/* The pass ends at the tick. */
	(void)jw_seq_other(&s);
	jw_seq_end_of_pass(&s);
	ck_assert_int_eq(write_check(&s, &c, true), JW_SEQ_PENDING);
	/* Another id after that DISCONNECT is no takeover. */
	jw_seq_disconnect(&s, client_a, "w1");
	prev = jw_seq_other(&s);
	ck_assert_int_eq(jw_seq_write_checked(&s, &prev, &d, true, true), JW_SEQ_PENDING);
	/* An accepted authentication: the connection's stored messages
	 * come next. */
	(void)jw_seq_other(&s);
	jw_seq_connecting(&s, client_b);
	ck_assert_int_eq(write_check(&s, &d, true), JW_SEQ_REPLAY);
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(retained_replay_check)
{
	struct jw_seq s;
	char buf[] = BYTES;
	const char *topic = TOPIC;
	struct jw_seq_check r = read_of(topic, buf, sizeof(BYTES) - 1);
	struct jw_seq_check c = {client_a, "w1", topic, buf, sizeof(BYTES) - 1, true};
	struct jw_seq_prev prev;

	/* The read check of a retained message's replay, then a write check
	 * of the very same buffers for its publisher. */
	jw_seq_init(&s, true);
	ck_assert(!jw_seq_read(&s, &r));
	prev = jw_seq_other(&s);
	ck_assert(jw_seq_write_replayed(&s, &prev, &c));
	/* Not right after that read check: a write like any other. */
	prev = jw_seq_other(&s);
	ck_assert(!jw_seq_write_replayed(&s, &prev, &c));
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(duplicate_suppressed)
{
	struct jw_seq s;
	char buf[] = BYTES, other[] = BYTES;
	struct jw_seq_check r = read_of(TOPIC, buf, sizeof(BYTES) - 1);
	struct jw_seq_check o = read_of(TOPIC, other, sizeof(BYTES) - 1);

	jw_seq_init(&s, true);
	/* MESSAGE said: an acknowledged duplicate; its deliveries follow. */
	(void)jw_seq_other(&s);
	jw_seq_suppress(&s, buf);
	ck_assert(jw_seq_read(&s, &r));
	ck_assert(!jw_seq_read(&s, &o));
	ck_assert(jw_seq_read(&s, &r));
	(void)jw_seq_other(&s);
	ck_assert(!jw_seq_read(&s, &r));
	jw_seq_cleanup(&s);
}
END_TEST

START_TEST(qos2_repeats)
{
	struct jw_seq s;
	static char bufs[JW_HELD_REPEATS_MAX + 1][sizeof(BYTES)];
	struct jw_seq_check r = read_of(TOPIC, bufs[0], sizeof(BYTES) - 1);

	jw_seq_init(&s, true);
	(void)jw_seq_other(&s);
	memcpy(bufs[0], BYTES, sizeof(BYTES));
	jw_seq_hold_repeat(&s, TOPIC, bufs[0], sizeof(BYTES) - 1);
	/* Events of other kinds before its PUBREL keep it. */
	(void)jw_seq_other(&s);
	jw_seq_disconnect(&s, client_a, "w1");
	(void)jw_seq_other(&s);
	/* Its deliveries: denied, every one of the same message. */
	ck_assert(jw_seq_read(&s, &r));
	ck_assert(jw_seq_read(&s, &r));
	/* The same buffer on another topic (freed and reused): delivered. */
	r.topic = "jobs/s1/j1/failed";
	ck_assert(!jw_seq_read(&s, &r));
	/* Once its deliveries are over, it is forgotten. */
	(void)jw_seq_other(&s);
	ck_assert_uint_eq(s.nrepeats, 0);
	r.topic = TOPIC;
	ck_assert(!jw_seq_read(&s, &r));
	/* At most JW_HELD_REPEATS_MAX: the oldest goes first. */
	(void)jw_seq_other(&s);
	for(int i = 0; i <= JW_HELD_REPEATS_MAX; i++) {
		memcpy(bufs[i], BYTES, sizeof(BYTES));
		jw_seq_hold_repeat(&s, TOPIC, bufs[i], sizeof(BYTES) - 1);
	}
	ck_assert_uint_eq(s.nrepeats, JW_HELD_REPEATS_MAX);
	r.payload = bufs[0];
	ck_assert(!jw_seq_read(&s, &r));
	r.payload = bufs[JW_HELD_REPEATS_MAX];
	ck_assert(jw_seq_read(&s, &r));
	jw_seq_cleanup(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sequence");

	jw_test_case(s, "publish", publish, valid_other_topic, NULL);
	jw_test_case(s, "wills", will_after_disconnect, will_known_by_its_copy, read_of_something_else,
	        nothing_to_settle, retained_refused_at_check, NULL);
	jw_test_case(s, "sessions", session_replays, retained_replay_check, NULL);
	jw_test_case(s, "deliveries", duplicate_suppressed, qos2_repeats, NULL);
	return jw_test_run(s);
}
