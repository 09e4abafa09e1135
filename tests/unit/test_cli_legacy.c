/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that `jobwire bridge` maps each legacy progress-feed format of the
 * seed designs to the right jobwire event, that every event it produces is
 * valid against the broker's schemas, and that messages it cannot express
 * are reported with a reason instead of being guessed at. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "legacy.h"
#include "schemaset.h"
#include "topic.h"
#include "util_check.h"

struct lcase {
	const char *msg;
	enum jw_legacy_result res;
	const char *topic;  /* session/job/type for EVENT */
	const char *expect; /* EVENT: exact payload; else: substring of why */
};

static const struct lcase cases[] = {
        /* kidney-genetics ProgressTracker: {"type":"progress_update","data":{...}} */
        {"{\"type\":\"progress_update\",\"data\":{\"operation_name\":\"curation_pipeline_scope_1\","
         "\"status\":\"running\","
         "\"current_operation\":\"Processing curation "
         "12\",\"progress_percentage\":40.0,\"current_item\":4,"
         "\"total_items\":10,\"items_added\":3,\"items_failed\":1}}",
                JW_LEGACY_EVENT, "legacy/curation_pipeline_scope_1/progress",
                "{\"progress\":40,\"current\":4,\"total\":10,\"message\":\"Processing curation "
                "12\",\"items_added\":3,\"items_failed\":1}"},
        /* Counts past int64 stay numbers (no undefined conversion). */
        {"{\"type\":\"progress_update\",\"data\":{\"operation_name\":\"big\",\"status\":"
         "\"running\","
         "\"progress_percentage\":5,\"items_added\":1e300,\"items_failed\":1e19}}",
                JW_LEGACY_EVENT, "legacy/big/progress",
                "{\"progress\":5,\"items_added\":1e+300,\"items_failed\":1e+19}"},
        {"{\"type\":\"progress_update\",\"data\":{\"operation_name\":\"op1\",\"status\":"
         "\"completed\",\"progress_percentage\":100}}",
                JW_LEGACY_EVENT, "legacy/op1/complete", "{}"},
        {"{\"type\":\"progress_update\",\"data\":{\"operation_name\":\"op1\",\"status\":\"failed\","
         "\"error_message\":\"HGNC timeout\"}}",
                JW_LEGACY_EVENT, "legacy/op1/failed", "{\"error\":\"HGNC timeout\"}"},
        {"{\"type\":\"progress_update\",\"data\":{\"operation_name\":\"op1\",\"status\":\"failed\"}"
         "}",
                JW_LEGACY_EVENT, "legacy/op1/failed",
                "{\"error\":\"failed (the legacy feed gave no error message)\"}"},
        {"{\"type\":\"progress_update\",\"data\":{\"operation_name\":\"op1\",\"status\":\"idle\"}}",
                JW_LEGACY_UNMAPPED, NULL, "status \"idle\" has no jobwire event"},
        {"{\"type\":\"progress_update\",\"data\":{\"operation_name\":\"op "
         "1\",\"status\":\"running\"}}",
                JW_LEGACY_UNMAPPED, NULL, "job id \"op 1\" is not a valid jobwire id"},
        {"{\"type\":\"progress_update\",\"data\":{\"operation_name\":\"op2\",\"status\":"
         "\"running\",\"progress_percentage\":140}}",
                JW_LEGACY_UNMAPPED, NULL, "progress 140 is outside 0-100"},
        {"{\"type\":\"progress_update\",\"data\":{\"operation_name\":\"op2\",\"status\":"
         "\"running\"}}",
                JW_LEGACY_EVENT, "legacy/op2/heartbeat", "{}"},
        /* Arti: progress / variant_update / connected */
        {"{\"type\":\"progress\",\"job_id\":\"3f2a9c1e-77b0\",\"status\":\"running\",\"progress\":"
         "45,"
         "\"message\":\"Processing variant 45/100\",\"current_step\":\"annotation\"}",
                JW_LEGACY_EVENT, "legacy/3f2a9c1e-77b0/progress",
                "{\"progress\":45,\"step\":\"annotation\",\"message\":\"Processing variant "
                "45/100\"}"},
        {"{\"type\":\"variant_update\",\"job_id\":\"3f2a9c1e-77b0\",\"variant\":{\"variant_id\":"
         "123,"
         "\"chromosome\":\"chr7\",\"position\":140453136,\"amp_tier\":\"Tier "
         "I\",\"confidence_score\":0.95}}",
                JW_LEGACY_EVENT, "legacy/3f2a9c1e-77b0/progress",
                "{\"progress\":45,\"items_added\":1,\"message\":\"variant 123 chr7:140453136 Tier "
                "I\"}"},
        {"{\"type\":\"variant_update\",\"job_id\":\"3f2a9c1e-77b0\",\"variant\":{\"variant_id\":"
         "124}}",
                JW_LEGACY_EVENT, "legacy/3f2a9c1e-77b0/progress",
                "{\"progress\":45,\"items_added\":2,\"message\":\"variant 124\"}"},
        {"{\"type\":\"progress\",\"job_id\":\"3f2a9c1e-77b0\",\"status\":\"completed\",\"message\":"
         "\"Annotated 100 variants\"}",
                JW_LEGACY_EVENT, "legacy/3f2a9c1e-77b0/complete",
                "{\"message\":\"Annotated 100 variants\"}"},
        {"{\"type\":\"connected\",\"job_id\":\"uuid\",\"message\":\"Connected to job progress "
         "stream\"}",
                JW_LEGACY_IGNORED, NULL, "connection message"},
        /* Z-stack analyzer: Processing* events, with a session */
        {"{\"type\":\"ProcessingStarted\",\"session_id\":\"scope-3\",\"image_id\":\"img-42\","
         "\"name\":\"Z-stack plate 7\"}",
                JW_LEGACY_EVENT, "scope-3/img-42/started", "{\"name\":\"Z-stack plate 7\"}"},
        {"{\"type\":\"ProcessingProgress\",\"session_id\":\"scope-3\",\"image_id\":\"img-42\","
         "\"progress\":20,\"step\":\"segment_3d\",\"message\":\"Segmenting\"}",
                JW_LEGACY_EVENT, "scope-3/img-42/progress",
                "{\"progress\":20,\"step\":\"segment_3d\",\"message\":\"Segmenting\"}"},
        {"{\"type\":\"ValidationRequired\",\"session_id\":\"scope-3\",\"image_id\":\"img-42\","
         "\"confidence\":0.42,\"threshold\":0.8,\"message\":\"Low focus confidence\"}",
                JW_LEGACY_EVENT, "scope-3/img-42/validation-required",
                "{\"reason\":\"Low focus confidence\",\"confidence\":0.42,\"threshold\":0.8}"},
        {"{\"type\":\"ValidationRequired\",\"image_id\":\"img-42\",\"confidence\":42}",
                JW_LEGACY_UNMAPPED, NULL, "confidence between 0 and 1"},
        {"{\"type\":\"ProcessingFailed\",\"session_id\":\"scope-3\",\"image_id\":\"img-43\","
         "\"error\":\"CUDA out of memory\",\"retryable\":true}",
                JW_LEGACY_EVENT, "scope-3/img-43/failed",
                "{\"error\":\"CUDA out of memory\",\"retryable\":true}"},
        {"{\"type\":\"ProcessingComplete\",\"session_id\":\"scope-3\",\"image_id\":\"img-42\","
         "\"results\":{\"cells\":1532},\"duration\":12.5}",
                JW_LEGACY_EVENT, "scope-3/img-42/complete",
                "{\"result\":{\"cells\":1532},\"duration_s\":12.5}"},
        {"{\"type\":\"SystemStatus\",\"gpu_usage\":97}", JW_LEGACY_UNMAPPED, NULL,
                "is not about a job"},
        {"{\"type\":\"Heartbeat\"}", JW_LEGACY_IGNORED, NULL, "connection message"},
        {"{\"type\":\"ConnectionAck\",\"session_id\":\"scope-3\"}", JW_LEGACY_IGNORED, NULL,
                "connection message"},
        /* Metadata Neighborhood: job_* with the job object */
        {"{\"type\":\"job_created\",\"job\":{\"id\":17,\"name\":\"Harvest OAI "
         "feed\",\"status\":\"pending\"}}",
                JW_LEGACY_EVENT, "legacy/17/started", "{\"name\":\"Harvest OAI feed\"}"},
        {"{\"type\":\"job_updated\",\"job\":{\"id\":17,\"status\":\"pending\"}}", JW_LEGACY_EVENT,
                "legacy/17/heartbeat", "{}"},
        {"{\"type\":\"job_updated\",\"job\":{\"id\":17,\"status\":\"in_progress\",\"progress\":30}"
         "}",
                JW_LEGACY_EVENT, "legacy/17/progress", "{\"progress\":30}"},
        {"{\"type\":\"job_completed\",\"job\":{\"id\":17,\"status\":\"completed\",\"result\":{"
         "\"records\":900}}}",
                JW_LEGACY_EVENT, "legacy/17/complete", "{\"result\":{\"records\":900}}"},
        {"{\"type\":\"job_failed\",\"job\":{\"id\":18,\"status\":\"failed\",\"error\":\"feed "
         "unreachable\"}}",
                JW_LEGACY_EVENT, "legacy/18/failed", "{\"error\":\"feed unreachable\"}"},
        {"{\"type\":\"job_updated\",\"job\":{\"id\":-3,\"status\":\"in_progress\"}}",
                JW_LEGACY_UNMAPPED, NULL, "job id is neither"},
        {"{\"type\":\"stats_updated\",\"stats\":{\"queued\":3}}", JW_LEGACY_IGNORED, NULL,
                "connection message"},
        /* PEARL studies: not jobs */
        {"{\"type\":\"study_created\",\"data\":{\"study_label\":\"X\"}}", JW_LEGACY_UNMAPPED, NULL,
                "is not about a job"},
        {"{\"type\":\"refresh_needed\"}", JW_LEGACY_IGNORED, NULL, "connection message"},
        /* Hostile or unknown */
        {"not json", JW_LEGACY_UNMAPPED, NULL, "not JSON"},
        {"{\"type\":\"progress\",\"job_id\":\"a\",\"message\":\"caf\xe9\",\"progress\":1}",
                JW_LEGACY_UNMAPPED, NULL, "invalid UTF-8"},
        {"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
                JW_LEGACY_UNMAPPED, NULL, "deeper than"},
        {"{\"type\":\"progress\",\"job_id\":\"a\",\"progress\":1e400}", JW_LEGACY_UNMAPPED, NULL,
                "out of range"},
        {"", JW_LEGACY_UNMAPPED, NULL, "not JSON"},
        {"[1,2]", JW_LEGACY_UNMAPPED, NULL, "not a JSON object"},
        {"{\"progress\":4}", JW_LEGACY_UNMAPPED, NULL, "no \"type\" member"},
        {"{\"type\":\"progress\",\"job_id\":\"a\",\"type\":\"x\"}", JW_LEGACY_UNMAPPED, NULL,
                "duplicate key"},
        {"{\"type\":\"telemetry\",\"job_id\":\"a\"}", JW_LEGACY_UNMAPPED, NULL,
                "unknown message type \"telemetry\""},
        {"{\"type\":\"progress\",\"status\":\"running\",\"progress\":5}", JW_LEGACY_UNMAPPED, NULL,
                "names no job"},
        {"{\"type\":\"progress\",\"job_id\":\"a\",\"progress\":\"5\"}", JW_LEGACY_UNMAPPED, NULL,
                "not a number"},
        {"{\"type\":\"progress\",\"job_id\":{\"x\":1}}", JW_LEGACY_UNMAPPED, NULL,
                "job id is neither"},
        {"{\"type\":\"progress\",\"job_id\":\"a\",\"session_id\":\"bad/session\",\"progress\":5}",
                JW_LEGACY_UNMAPPED, NULL, "session id \"bad/session\""},
};

static struct jw_schemaset *set;
static struct jw_legacy *lg;

START_TEST(sequence)
{
	char err[300];
	ck_assert_int_eq(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &set, err, sizeof(err)), 0);
	lg = jw_legacy_new("legacy");
	ck_assert_ptr_nonnull(lg);
	/* One mapper for the whole list: variant_update relies on the progress
	 * seen before it for the same job. */
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct lcase *c = &cases[i];
		struct jw_legacy_event ev;
		char why[300];
		enum jw_legacy_result r = jw_legacy_map(lg, c->msg, strlen(c->msg), &ev, why, sizeof(why));
		ck_assert_msg(r == c->res, "case %zu (%s): result %d, why %s", i, c->msg, r, why);
		if(r != JW_LEGACY_EVENT) {
			ck_assert_msg(strstr(why, c->expect) != NULL, "case %zu: why \"%s\"", i, why);
			ck_assert_ptr_null(ev.payload);
			continue;
		}
		char topic[400];
		snprintf(topic, sizeof(topic), "%s/%s/%s", ev.session, ev.job, ev.type);
		ck_assert_str_eq(topic, c->topic);
		ck_assert_msg(!strcmp(ev.payload, c->expect), "case %zu: payload %s", i, ev.payload);
		/* Every event the mapper makes passes the broker's checks. */
		char full[500];
		struct jw_topic t;
		struct jw_verdict v;
		struct jw_event_limits lim = {JW_DEFAULT_MAX_PAYLOAD, JW_DEFAULT_MAX_DEPTH};
		snprintf(full, sizeof(full), "jobs/%s", topic);
		ck_assert_int_eq(jw_topic_parse("jobs", full, &t), JW_TOPIC_JOB);
		ck_assert_msg(jw_event_check(set, &t, ev.payload, strlen(ev.payload), &lim, &v) == 0,
		        "case %zu: %s", i, v.message);
		jw_legacy_event_cleanup(&ev);
		jw_legacy_event_cleanup(&ev);
	}
	jw_legacy_free(lg);
	jw_schemaset_free(set);
}
END_TEST

START_TEST(long_strings_are_cut)
{
	char msg[8000];
	char big[5000];
	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(msg, sizeof(msg), "{\"type\":\"job_failed\",\"job\":{\"id\":\"j\",\"error\":\"%s\"}}",
	        big);
	struct jw_legacy *l = jw_legacy_new("s");
	struct jw_legacy_event ev;
	char why[200];
	ck_assert_int_eq(jw_legacy_map(l, msg, strlen(msg), &ev, why, sizeof(why)), JW_LEGACY_EVENT);
	ck_assert_uint_eq(strlen(ev.payload), strlen("{\"error\":\"\"}") + 2000);
	jw_legacy_event_cleanup(&ev);
	ck_assert_ptr_null(jw_legacy_new("bad session"));
	ck_assert_ptr_null(jw_legacy_new(NULL));
	/* Many jobs: the memory is bounded and keeps working. */
	for(int i = 0; i < 3000; i++) {
		snprintf(msg, sizeof(msg), "{\"type\":\"progress\",\"job_id\":\"j%d\",\"progress\":%d}", i,
		        i % 100);
		ck_assert_int_eq(
		        jw_legacy_map(l, msg, strlen(msg), &ev, why, sizeof(why)), JW_LEGACY_EVENT);
		jw_legacy_event_cleanup(&ev);
	}
	jw_legacy_free(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_legacy");
	jw_test_case(s, "sequence", sequence, NULL);
	jw_test_case(s, "long_strings_are_cut", long_strings_are_cut, NULL);
	return jw_test_run(s);
}
