/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The journal's health, on the broker's side: the journal thread's state
 * turned into log lines (once per change, from the tick) and into the
 * "journal" member of the stats message. Broker thread only.
 */
#include "plugin.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json.h>
#include "broker_api.h"

#include "journal.h"

static const char *state_name(enum jw_journal_state s)
{
	switch(s) {
		case JW_JOURNAL_UP:
			return "up";
		case JW_JOURNAL_DOWN:
			return "down";
		default:
			return "connecting";
	}
}

void jw_journal__tick(struct jw_plugin *p)
{
	struct jw_journal_stats st;
	struct jw_note notes[JW_NOTES_MAX];
	uint64_t dropped;
	size_t n;
	char err[256];

	if(!p->journal) {
		return;
	}
	/* Damage, a damaged checkpoint, stray files: one line each. */
	n = jw_journal_notes(p->journal, notes, JW_NOTES_MAX, &dropped);
	for(size_t i = 0; i < n; i++) {
		jw_log__note((int)notes[i].level, "journal: ", notes[i].text);
	}
	if(dropped) {
		mosquitto_log_printf(MOSQ_LOG_WARNING,
		        "jobwire: journal: %llu more lines about damaged or stray files in %s/journal not "
		        "logged one by one: see journal in $jobwire/stats",
		        (unsigned long long)dropped, p->opt.data_dir);
	}
	jw_journal_stats(p->journal, &st);
	/* Log transitions only, never once per record. */
	if(st.state_changes != p->journal_changes_seen) {
		p->journal_changes_seen = st.state_changes;
		if(st.state == JW_JOURNAL_UP) {
			mosquitto_log_printf(MOSQ_LOG_NOTICE,
			        "jobwire: journal: writing to PostgreSQL (%llu bytes spooled to catch up)",
			        (unsigned long long)st.pending_bytes);
		} else if(st.state == JW_JOURNAL_DOWN) {
			jw_journal_last_error(p->journal, err, sizeof(err));
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: journal: PostgreSQL unavailable (%s); spooling to %s/journal (%llu "
			        "bytes pending) and retrying",
			        err[0] ? err : "unknown error", p->opt.data_dir,
			        (unsigned long long)st.pending_bytes);
		}
	}
	if(st.replay_done && !p->journal_replay_logged) {
		p->journal_replay_logged = true;
		mosquitto_log_printf(MOSQ_LOG_INFO,
		        "jobwire: journal: the spool left by the previous run is in PostgreSQL");
	}
	if(st.dead_letters != p->journal_dead_seen) {
		char *detail;

		jw_journal_last_error(p->journal, err, sizeof(err));
		/* PostgreSQL's DETAIL repeats the row: the file has it. */
		if((detail = strstr(err, " DETAIL:")) != NULL) {
			*detail = '\0';
		}
		mosquitto_log_printf(MOSQ_LOG_ERR,
		        "jobwire: journal: PostgreSQL refused %llu record(s) for good; kept in "
		        "%s/journal-dead-letter.jsonl (latest: %s)",
		        (unsigned long long)(st.dead_letters - p->journal_dead_seen), p->opt.data_dir,
		        err[0] ? err : "see the file");
		p->journal_dead_seen = st.dead_letters;
	}
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}

struct json_object *jw_journal__stats_json(struct jw_plugin *p, const struct jw_clock *now)
{
	struct json_object *o = json_object_new_object();
	struct jw_journal_stats st;

	if(!o) {
		return NULL;
	}
	json_object_object_add(o, "enabled", json_object_new_boolean(p->journal != NULL));
	if(p->journal) {
		jw_journal_stats(p->journal, &st);
		json_object_object_add(o, "state", json_object_new_string(state_name(st.state)));
		add_u64(o, "spooled", st.spooled);
		add_u64(o, "committed", st.committed);
		add_u64(o, "dead_letters", st.dead_letters);
		add_u64(o, "pending_bytes", st.pending_bytes);
		add_u64(o, "spool_bytes", st.spool_bytes);
		add_u64(o, "spool_max", p->opt.spool_max);
		add_u64(o, "lag_ms",
		        st.oldest_ms > 0 && now->real_ms > st.oldest_ms
		                ? (uint64_t)(now->real_ms - st.oldest_ms)
		                : 0);
		add_u64(o, "write_errors", st.write_errors);
		add_u64(o, "sync_errors", st.sync_errors);
		add_u64(o, "damaged_records", st.damaged_records);
		add_u64(o, "damaged_bytes", st.damaged_bytes);
		add_u64(o, "quarantine_files", st.quarantined);
		add_u64(o, "quarantine_failures", st.unkept);
		add_u64(o, "checkpoint_damaged", st.checkpoint_damaged);
		add_u64(o, "checkpoint_errors", st.checkpoint_errors);
		add_u64(o, "stray_files", st.strays);
	}
	add_u64(o, "refused", p->counters.journal_refused);
	add_u64(o, "lost", p->counters.journal_lost);
	return o;
}
