/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jw_jobs_step: what an event does to the table, and what must follow,
 * in one call. It sits above the table (table.c) and its clocks
 * (timers.c), so neither has to know about the other's callers.
 */
#include "internal.h"

#include <string.h>

/* A held update goes out before an urgent change, so subscribers see the
 * states in order. The first letter rules out nearly every event. */
static void held_first(struct jw_jobs *jobs, const char *session, const char *job, const char *type,
        const struct jw_clock *now, struct jw_effects *fx)
{
	struct jw_job *j;

	if((type[0] != 'c' && type[0] != 'f' && type[0] != 'v') || !jw_jobs_type_is_urgent(type))
		return;
	j = jw_jobs_find(jobs, session, job);
	if(!j || !jw_jobs_state_held(j))
		return;
	jw_jobs_state_published(jobs, j, now);
	fx->held_job = j;
	fx->held_state = jw_jobs_state_render(jobs, j, &fx->held_len);
	/* Out of memory the publish fails, as a publish would: counted. */
	fx->set |= JW_FX_HELD_STATE;
}

int jw_jobs_step(struct jw_jobs *jobs, const char *session, const char *job, const char *type,
        const struct jw_jnode *event, const void *raw, size_t rawlen, bool broker_made,
        const struct jw_clock *now, struct jw_effects *fx, struct jw_verdict *v)
{
	struct jw_apply_result res;

	fx->set = 0;
	fx->job = fx->held_job = NULL;
	fx->held_state = NULL;
	fx->held_len = 0;
	if(type)
		held_first(jobs, session, job, type, now, fx);
	if(broker_made)
		fx->set |= JW_FX_LOG;
	if(jw_jobs_apply(jobs, session, job, type, event, raw, rawlen, now, &res, v)) {
		fx->outcome = JW_APPLY_REJECT;
		fx->set |= JW_FX_REFUSE;
		return -1;
	}
	fx->outcome = res.outcome;
	fx->job = res.job;
	switch(res.outcome) {
		case JW_APPLY_ACCEPT:
			fx->set |= JW_FX_DELIVER | JW_FX_PERSIST | JW_FX_JOURNAL;
			/* The counters count what clients sent. */
			if(!broker_made)
				fx->set |= JW_FX_COUNT_ACCEPT;
			if(res.review)
				fx->set |= JW_FX_REVIEW;
			switch(jw_jobs_state_note(jobs, res.job, res.urgent, now)) {
				case JW_STATE_PUBLISH:
					fx->set |= JW_FX_STATE_NOW;
					break;
				case JW_STATE_COALESCED:
					fx->set |= JW_FX_STATE_LATER | JW_FX_COALESCED;
					break;
				case JW_STATE_HOLD:
					fx->set |= JW_FX_STATE_LATER;
					break;
			}
			break;
		case JW_APPLY_DUPLICATE:
			/* The journal takes the repeat too: if the first copy could
			 * not be spooled, the publisher's retry is how it gets in. */
			fx->set |= JW_FX_COUNT_DUPLICATE | JW_FX_JOURNAL | JW_FX_SUPPRESS;
			break;
		default:
			fx->set |= JW_FX_REFUSE;
			break;
	}
	return 0;
}
