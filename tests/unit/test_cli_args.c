/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that the jobwire command's argument helpers accept the documented
 * forms and refuse everything else with a specific message: the option
 * scanner, numbers, durations, field=value payloads, broker URLs and lists. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "args.h"
#include "util_check.h"

enum { A_HOST = 1, A_VERBOSE, A_PORT };
static const struct jw_opt opts[] = {
        {"host", 'h', 1, A_HOST},
        {"verbose", 'v', 0, A_VERBOSE},
        {"port", 'p', 1, A_PORT},
        {NULL, 0, 0, 0},
};

START_TEST(scanner_forms)
{
	char *argv[] = {
	        "--host", "a", "--host=b", "-hc", "-h", "d", "-v", "pos", "-", "--", "--host", "-v"};
	struct jw_args a;
	jw_args_init(&a, 12, argv);
	ck_assert_int_eq(jw_args_next(&a, opts), A_HOST);
	ck_assert_str_eq(a.value, "a");
	ck_assert_int_eq(jw_args_next(&a, opts), A_HOST);
	ck_assert_str_eq(a.value, "b");
	ck_assert_int_eq(jw_args_next(&a, opts), A_HOST);
	ck_assert_str_eq(a.value, "c");
	ck_assert_int_eq(jw_args_next(&a, opts), A_HOST);
	ck_assert_str_eq(a.value, "d");
	ck_assert_int_eq(jw_args_next(&a, opts), A_VERBOSE);
	ck_assert_int_eq(jw_args_next(&a, opts), JW_ARGS_POSITIONAL);
	ck_assert_str_eq(a.value, "pos");
	ck_assert_int_eq(jw_args_next(&a, opts), JW_ARGS_POSITIONAL);
	ck_assert_str_eq(a.value, "-");
	ck_assert_int_eq(jw_args_next(&a, opts), JW_ARGS_DASHDASH);
	ck_assert_int_eq(a.i, 10);
	/* After "--" everything is positional, options included. */
	ck_assert_int_eq(jw_args_next(&a, opts), JW_ARGS_POSITIONAL);
	ck_assert_str_eq(a.value, "--host");
	ck_assert_int_eq(jw_args_next(&a, opts), JW_ARGS_POSITIONAL);
	ck_assert_int_eq(jw_args_next(&a, opts), JW_ARGS_END);
}
END_TEST

static void expect_error(int argc, char **argv, const char *msg)
{
	struct jw_args a;
	jw_args_init(&a, argc, argv);
	int id;
	while((id = jw_args_next(&a, opts)) > 0 || id == JW_ARGS_POSITIONAL) {
	}
	ck_assert_int_eq(id, JW_ARGS_ERROR);
	ck_assert_str_eq(a.err, msg);
}

START_TEST(scanner_errors)
{
	char *a1[] = {"--nope"};
	expect_error(1, a1, "unknown option --nope");
	char *a2[] = {"--host"};
	expect_error(1, a2, "option --host needs a value");
	char *a3[] = {"--verbose=1"};
	expect_error(1, a3, "option --verbose takes no value");
	char *a4[] = {"-x"};
	expect_error(1, a4, "unknown option -x");
	char *a5[] = {"-vv"};
	expect_error(1, a5, "option -v takes no value");
	char *a6[] = {"--nope=--host"};
	expect_error(1, a6, "unknown option --nope");
}
END_TEST

START_TEST(numbers)
{
	char err[200];
	long l;
	double d;
	ck_assert_int_eq(jw_parse_long("1883", 1, 65535, &l, "--port", err, sizeof(err)), 0);
	ck_assert_int_eq(l, 1883);
	ck_assert_int_eq(jw_parse_long("0", 1, 65535, &l, "--port", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--port: 0 is out of range (1-65535)");
	ck_assert_int_eq(jw_parse_long("12ab", 1, 65535, &l, "--port", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--port: \"12ab\" is not a whole number");
	ck_assert_int_eq(jw_parse_long("", 1, 65535, &l, "--port", err, sizeof(err)), -1);
	ck_assert_int_eq(jw_parse_long(" 5", 1, 65535, &l, "--port", err, sizeof(err)), -1);
	ck_assert_int_eq(
	        jw_parse_long("99999999999999999999999", 1, 65535, &l, "--port", err, sizeof(err)), -1);
	ck_assert_int_eq(jw_parse_double("1.5", 0, 10, &d, "x", err, sizeof(err)), 0);
	ck_assert(d == 1.5);
	ck_assert_int_eq(jw_parse_double("nan", 0, 10, &d, "x", err, sizeof(err)), -1);
	ck_assert_int_eq(jw_parse_double("inf", 0, 1e300, &d, "x", err, sizeof(err)), -1);
	ck_assert_int_eq(jw_parse_double("0x10", 0, 100, &d, "x", err, sizeof(err)), -1);
	ck_assert_int_eq(jw_parse_double("1e999", 0, 1e300, &d, "x", err, sizeof(err)), -1);
}
END_TEST

START_TEST(durations)
{
	static const struct {
		const char *in;
		double s;
	} ok[] = {
	        {"90", 90},
	        {"90s", 90},
	        {"1.5s", 1.5},
	        {"5m", 300},
	        {"1h", 3600},
	        {"2d", 172800},
	        {"250ms", 0.25},
	        {"0", 0},
	};
	char err[200];
	double s;
	for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(
		        jw_parse_duration(ok[i].in, &s, err, sizeof(err)) == 0, "%s: %s", ok[i].in, err);
		ck_assert_msg(s > ok[i].s - 1e-9 && s < ok[i].s + 1e-9, "%s gave %g", ok[i].in, s);
	}
	static const char *bad[] = {
	        "", "h", "1x", "-5", "1hh", "1 h", "nan", "inf", "1e30", "11000d", "m5"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(jw_parse_duration(bad[i], &s, err, sizeof(err)) == -1, "%s accepted", bad[i]);
		ck_assert(strstr(err, "duration") != NULL);
	}
}
END_TEST

static const char *fields_json(const char *const *assign, size_t n, char *err, int *failed_at)
{
	static char out[1000];
	struct json_object *o = json_object_new_object();
	*failed_at = -1;
	for(size_t i = 0; i < n; i++) {
		if(jw_fields_add(o, assign[i], err, 200)) {
			*failed_at = (int)i;
			break;
		}
	}
	snprintf(out, sizeof(out), "%s",
	        json_object_to_json_string_ext(
	                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

START_TEST(fields_typed)
{
	char err[200];
	int at;
	const char *a[] = {"progress=45", "message=Processing 45/100", "ok=true", "x=null", "n=-1.5e2",
	        "s=0045", "system.cpu_percent=40", "system.queue_length=3", "meta:={\"a\":[1,2]}",
	        "str:=\"42\"", "empty="};
	const char *j = fields_json(a, sizeof(a) / sizeof(a[0]), err, &at);
	ck_assert_msg(at == -1, "failed at %d: %s", at, err);
	ck_assert_str_eq(j,
	        "{\"progress\":45,\"message\":\"Processing 45/100\",\"ok\":true,\"x\":null,"
	        "\"n\":-1.5e2,\"s\":\"0045\",\"system\":{\"cpu_percent\":40,\"queue_length\":3},"
	        "\"meta\":{\"a\":[1,2]},\"str\":\"42\",\"empty\":\"\"}");
}
END_TEST

START_TEST(fields_hostile)
{
	static const struct {
		const char *a;
		const char *err;
	} cases[] = {
	        {"noequals", "\"noequals\": expected field=value or field:=json"},
	        {"=5", "\"=5\": the field name is empty"},
	        {":=5", "\":=5\": the field name is empty"},
	        {".a=1", "field \".a\": empty name between dots"},
	        {"a.=1", "field \"a.\": empty name between dots"},
	        {"a..b=1", "field \"a..b\": empty name between dots"},
	        {"a:={\"x\":1,\"x\":2}", NULL},
	        {"a:=[1,", NULL},
	        {"a:=NaN", NULL},
	        {"a=\xff\xfe", "field \"a\": not valid UTF-8"},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[200];
		struct json_object *o = json_object_new_object();
		ck_assert_msg(
		        jw_fields_add(o, cases[i].a, err, sizeof(err)) == -1, "%s accepted", cases[i].a);
		if(cases[i].err) {
			ck_assert_str_eq(err, cases[i].err);
		} else {
			ck_assert(strncmp(err, "field \"a\": ", 11) == 0);
		}
		ck_assert_int_eq(json_object_object_length(o), 0);
		json_object_put(o);
	}
	/* Twice, or through a non-object: refused, and nothing half-built stays. */
	char err[200];
	struct json_object *o = json_object_new_object();
	ck_assert_int_eq(jw_fields_add(o, "a=1", err, sizeof(err)), 0);
	ck_assert_int_eq(jw_fields_add(o, "a=2", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field \"a\" is given twice");
	ck_assert_int_eq(jw_fields_add(o, "a.b=2", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field \"a\" is already set and is not an object");
	ck_assert_int_eq(jw_fields_add(o, "x.y.z=1", err, sizeof(err)), 0);
	ck_assert_int_eq(jw_fields_add(o, "x.y.z=2", err, sizeof(err)), -1);
	ck_assert_int_eq(jw_fields_add(o, "q.r:=[", err, sizeof(err)), -1);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	        "{\"a\":1,\"x\":{\"y\":{\"z\":1}}}");
	json_object_put(o);
}
END_TEST

START_TEST(urls)
{
	struct jw_url u;
	char err[200];
	ck_assert_int_eq(jw_url_parse("mqtt://broker.lab:1884", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "broker.lab");
	ck_assert_int_eq(u.port, 1884);
	ck_assert_int_eq(u.tls, 0);
	ck_assert_int_eq(jw_url_parse("mqtts://alice:s3cret@10.0.0.1/", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "10.0.0.1");
	ck_assert_int_eq(u.port, 0);
	ck_assert_int_eq(u.tls, 1);
	ck_assert_str_eq(u.username, "alice");
	ck_assert_str_eq(u.password, "s3cret");
	ck_assert_int_eq(jw_url_parse("mqtt://[::1]:1883", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 1883);
	static const char *bad[] = {"http://x", "mqtt://", "mqtt://:1883", "mqtt://h:0",
	        "mqtt://h:70000", "mqtt://h:12x", "mqtt://h/path", "mqtt://[::1", "broker:1883",
	        "mqtt://h:"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(jw_url_parse(bad[i], &u, err, sizeof(err)) == -1, "%s accepted", bad[i]);
	}
}
END_TEST

START_TEST(lists)
{
	char out[4][16], err[200];
	ck_assert_int_eq(jw_split_list("a,b.c,d-e", &out[0][0], 4, 16, err, sizeof(err)), 3);
	ck_assert_str_eq(out[1], "b.c");
	ck_assert_int_eq(jw_split_list("a,,b", &out[0][0], 4, 16, err, sizeof(err)), -1);
	ck_assert_int_eq(jw_split_list("", &out[0][0], 4, 16, err, sizeof(err)), -1);
	ck_assert_int_eq(jw_split_list("a,b,c,d,e", &out[0][0], 4, 16, err, sizeof(err)), -1);
	ck_assert_int_eq(jw_split_list("0123456789abcdefg", &out[0][0], 4, 16, err, sizeof(err)), -1);
}
END_TEST

static Suite *args_suite(void)
{
	Suite *s = suite_create("cli_args");
	struct {
		const char *name;
		const TTest *t;
	} tests[] = {
	        {"scanner_forms", scanner_forms},
	        {"scanner_errors", scanner_errors},
	        {"numbers", numbers},
	        {"durations", durations},
	        {"fields_typed", fields_typed},
	        {"fields_hostile", fields_hostile},
	        {"urls", urls},
	        {"lists", lists},
	};
	for(size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		TCase *tc = tcase_create(tests[i].name);
		tcase_add_test(tc, tests[i].t);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return jw_test_run(args_suite());
}
