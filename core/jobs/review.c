/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Reviews: the answer to a validation-required event, sent as a control
 * {"action":"review","choice":C,"comment":T} (docs/lifecycle.md,
 * "Reviews"). The rule that accepts or refuses it, the decision it
 * leaves on the job, and what the broker reads back for the journal.
 * Controls are rare: json-c may read the offered actions here.
 */
#include "jdoc.h"
#include "internal.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void refuse(struct jw_verdict *v, enum jw_reason reason, const char *field, const char *fmt,
        ...) __attribute__((format(printf, 4, 5)));

static void refuse(
        struct jw_verdict *v, enum jw_reason reason, const char *field, const char *fmt, ...)
{
	va_list ap;

	v->reason = reason;
	v->keyword[0] = '\0';
	if(snprintf(v->field, sizeof(v->field), "%s", field) < 0)
		v->field[0] = '\0';
	va_start(ap, fmt);
	if(vsnprintf(v->message, sizeof(v->message), fmt, ap) < 0)
		v->message[0] = '\0';
	va_end(ap);
}

void jw_jobs__decision_free(struct jw_jobs *jobs, struct jw_job_decision *d)
{
	if(!d)
		return;
	jw_jobs__text_free(jobs, d->choice);
	jw_jobs__text_free(jobs, d->comment);
	jw_jobs__text_free(jobs, d->by);
	jw_jobs__release(jobs, d, sizeof(*d));
}

/*
 * Whether choice (a string node) is among the offered actions (array
 * text, NULL: none offered). 1 yes, 0 no, -1 out of memory. An empty
 * array offers nothing: any choice is taken.
 */
static int offered(const char *actions, const struct jw_jnode *choice)
{
	struct json_object *a;
	size_t n;
	int found = 0;

	if(!actions)
		return 1;
	a = json_tokener_parse(actions);
	if(!a)
		return -1;
	n = json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	if(n == 0)
		found = 1;
	for(size_t i = 0; i < n && !found; i++) {
		struct json_object *s = json_object_array_get_idx(a, i);

		if(json_object_is_type(s, json_type_string) &&
		        (size_t)json_object_get_string_len(s) == choice->n &&
		        memcmp(json_object_get_string(s), choice->u.s, choice->n) == 0)
			found = 1;
	}
	json_object_put(a);
	return found;
}

/* How many of s's n bytes to quote in a message: at most max, never
 * ending inside a UTF-8 sequence (the notice must stay valid UTF-8). */
static int quote_len(const char *s, size_t n, size_t max)
{
	if(n <= max)
		return (int)n;
	while(max > 0 && ((unsigned char)s[max] & 0xC0u) == 0x80u)
		max--;
	return (int)max;
}

/* The offered actions for a message: "approve, reject", whole items
 * only ("..." for the rest when they do not fit). */
static void actions_list(const char *actions, char *buf, size_t buflen)
{
	struct json_object *a = actions ? json_tokener_parse(actions) : NULL;
	size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	size_t used = 0;

	buf[0] = '\0';
	for(size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(a, i);
		const char *t = json_object_is_type(s, json_type_string) ? json_object_get_string(s) : "?";
		size_t need = strlen(t) + (i ? 2 : 0);

		/* Room for this item, and for ", ..." after it. */
		if(used + need + 6 > buflen) {
			snprintf(buf + used, buflen - used, "%s...", i ? ", " : "");
			break;
		}
		used += (size_t)snprintf(buf + used, buflen - used, "%s%s", i ? ", " : "", t);
	}
	json_object_put(a);
}

int jw_jobs__apply_review(struct jw_jobs *jobs, struct jw_job *j, const char *job,
        const struct jw_jnode *ev, const struct jw_clock *now, struct jw_verdict *v)
{
	const struct jw_jnode *choice = jw_jnode_get(ev, "choice");
	const struct jw_jnode *comment = jw_jnode_get(ev, "comment");
	struct jw_job_decision *d;
	char list[200];
	int ok;

	v->reason = JW_REASON_NONE;
	if(j->status != JW_JOB_WAITING || !j->review) {
		refuse(v, JW_REASON_NO_PENDING_REVIEW, "/action", "job %s is %s: no review is pending", job,
		        jw_job_status_name((enum jw_job_status)j->status));
		return 0;
	}
	if(j->decision && j->decision->pending) {
		refuse(v, JW_REASON_NO_PENDING_REVIEW, "/action",
		        "the review of job %s was already answered: %.*s", job,
		        quote_len(j->decision->choice, strlen(j->decision->choice), 120),
		        j->decision->choice);
		return 0;
	}
	if(!choice || choice->type != JW_J_STRING || choice->n == 0) {
		refuse(v, JW_REASON_CHOICE_NOT_OFFERED, "/choice", "a review needs a non-empty choice");
		return 0;
	}
	ok = offered(j->review->actions, choice);
	if(ok < 0)
		return -1;
	if(!ok) {
		actions_list(j->review->actions, list, sizeof(list));
		refuse(v, JW_REASON_CHOICE_NOT_OFFERED, "/choice", "/choice: %.*s is not offered (%s)",
		        quote_len(choice->u.s, choice->n, 100), choice->u.s, list);
		return 0;
	}
	d = jw_jobs__alloc(jobs, sizeof(*d));
	if(!d)
		return -1;
	d->choice = jw_jobs__text_of_node(jobs, choice);
	if(comment && comment->type == JW_J_STRING)
		d->comment = jw_jobs__text_of_node(jobs, comment);
	if(!d->choice || (comment && comment->type == JW_J_STRING && !d->comment)) {
		jw_jobs__decision_free(jobs, d);
		return -1;
	}
	d->at_ms = now->real_ms;
	d->pending = true;
	jw_jobs__decision_free(jobs, j->decision);
	j->decision = d;
	return 0;
}

bool jw_job_review_info(const struct jw_job *j, struct jw_review_info *out)
{
	const struct jw_job_review *r = j ? j->review : NULL;
	const struct jw_job_decision *d = j ? j->decision : NULL;

	memset(out, 0, sizeof(*out));
	if(!r || !d || !d->pending)
		return false;
	out->reason = r->reason;
	out->item = r->item;
	out->actions = r->actions;
	out->confidence = r->confidence;
	out->has_threshold = r->has_threshold;
	out->threshold = r->threshold;
	out->asked_ms = r->asked_ms;
	out->choice = d->choice;
	out->comment = d->comment;
	out->by = d->by;
	out->answered_ms = d->at_ms;
	return true;
}

int jw_job_review_set_by(struct jw_jobs *jobs, struct jw_job *j, const char *who)
{
	struct json_object *s;
	char *text;

	if(!j || !j->decision || !who)
		return -1;
	s = json_object_new_string(who);
	if(!s)
		return -1;
	text = jw_jobs__text_of(jobs, s);
	json_object_put(s);
	if(!text)
		return -1;
	jw_jobs__text_free(jobs, j->decision->by);
	j->decision->by = text;
	return 0;
}
