/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that the schema compiler refuses what it cannot honour with precise messages, and that
 * the validator reports the first failure with the exact pointer, keyword and message text. */
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "json.h"
#include "schema.h"
/* The fast-path tests look at the compiled form (which lookup table was
 * built) and compare against the exact number comparison. */
#include "schema/node.h"
#include "util_check.h"

#define SOURCE "schemas/x.json"

static struct json_object *parse(const char *text)
{
	struct json_object *o = NULL;
	struct jw_json_error jerr;

	ck_assert_msg(jw_json_parse(text, strlen(text), 64, &o, &jerr) == 0, "bad test JSON %s: %s",
	        text, jerr.message);
	return o;
}

/* Compiles text, frees the document at once (the schema must not keep it). */
static struct jw_schema *compile_ok(const char *text)
{
	struct json_object *doc = parse(text);
	struct jw_schema *s = NULL;
	char err[512];

	int rc = jw_schema_compile(doc, SOURCE, &s, err, sizeof err);
	json_object_put(doc);
	ck_assert_msg(rc == 0, "compile %s: %s", text, err);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Expects compilation to fail with exactly want as the error. */
static void compile_fails(const char *text, const char *want)
{
	struct json_object *doc = parse(text);
	struct jw_schema *s = (struct jw_schema *)1;
	char err[512];

	int rc = jw_schema_compile(doc, SOURCE, &s, err, sizeof err);
	json_object_put(doc);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err, want);
}

/* Validates instance text; returns the verdict and fills *err. The verdict-only
 * call must always agree. */
static int check(const struct jw_schema *s, const char *instance, struct jw_schema_error *err)
{
	struct json_object *inst = parse(instance);
	int r = jw_schema_validate(s, inst, err);
	int quiet = jw_schema_validate(s, inst, NULL);
	json_object_put(inst);
	ck_assert_int_eq(r, quiet);
	return r;
}

static void expect_valid(const struct jw_schema *s, const char *instance)
{
	struct jw_schema_error err;
	int r = check(s, instance, &err);
	ck_assert_msg(r == 1, "%s rejected: %s", instance, err.message);
}

static void expect_error(const struct jw_schema *s, const char *instance, const char *pointer,
        const char *keyword, const char *message)
{
	struct jw_schema_error err;
	ck_assert_msg(check(s, instance, &err) == 0, "%s accepted", instance);
	ck_assert_str_eq(err.pointer, pointer);
	ck_assert_str_eq(err.keyword, keyword);
	if(message != NULL)
		ck_assert_str_eq(err.message, message);
}

START_TEST(error_maximum)
{
	struct jw_schema *s = compile_ok("{\"type\":\"object\",\"properties\":{\"progress\":"
	                                 "{\"type\":\"number\",\"minimum\":0,\"maximum\":100}}}");
	expect_valid(s, "{\"progress\":100}");
	expect_valid(s, "{\"progress\":99.5}");
	expect_error(
	        s, "{\"progress\":140}", "/progress", "maximum", "/progress: maximum 100, got 140");
	expect_error(
	        s, "{\"progress\":100.5}", "/progress", "maximum", "/progress: maximum 100, got 100.5");
	expect_error(
	        s, "{\"progress\":-0.25}", "/progress", "minimum", "/progress: minimum 0, got -0.25");
	jw_schema_free(s);
}
END_TEST

START_TEST(error_type)
{
	struct jw_schema *s = compile_ok("{\"properties\":{\"total\":{\"type\":\"integer\"},"
	                                 "\"eta_s\":{\"type\":[\"number\",\"null\"]}}}");
	expect_valid(s, "{\"total\":3}");
	/* An integral double is an integer. */
	expect_valid(s, "{\"total\":3.0}");
	expect_valid(s, "{\"total\":1e52}");
	expect_valid(s, "{\"eta_s\":null}");
	expect_error(s, "{\"total\":\"x\"}", "/total", "type", "/total: type \"integer\", got \"x\"");
	expect_error(s, "{\"total\":3.5}", "/total", "type", "/total: type \"integer\", got 3.5");
	expect_error(s, "{\"eta_s\":false}", "/eta_s", "type",
	        "/eta_s: type [\"number\",\"null\"], got false");
	jw_schema_free(s);
}
END_TEST

START_TEST(error_root)
{
	struct jw_schema *s = compile_ok("{\"type\":\"object\"}");
	/* The root pointer is "" and is shown as "/" in messages. */
	expect_error(s, "[1,2]", "", "type", "/: type \"object\", got [1,2]");
	expect_error(s, "null", "", "type", "/: type \"object\", got null");
	jw_schema_free(s);
}
END_TEST

START_TEST(error_required)
{
	struct jw_schema *s = compile_ok("{\"required\":[\"error\"],\"properties\":{\"details\":"
	                                 "{\"required\":[\"a/b\"]}}}");
	expect_valid(s, "{\"error\":null}");
	/* The pointer names where the missing property belongs. */
	expect_error(s, "{}", "/error", "required", "/error: required property \"error\" missing");
	expect_error(s, "{\"error\":\"x\",\"details\":{}}", "/details/a~1b", "required",
	        "/details/a~1b: required property \"a/b\" missing");
	jw_schema_free(s);
}
END_TEST

START_TEST(error_additional_properties)
{
	struct jw_schema *s = compile_ok(
	        "{\"properties\":{\"a\":true},\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
	        "\"additionalProperties\":false}");
	expect_valid(s, "{\"a\":1,\"x-trace\":\"t\"}");
	expect_error(s, "{\"a\":1,\"b/c~\":2}", "/b~1c~0", "additionalProperties",
	        "/b~1c~0: additionalProperties: property \"b/c~\" is not allowed");
	expect_error(s, "{\"x-n\":2}", "/x-n", "type", "/x-n: type \"string\", got 2");
	jw_schema_free(s);

	s = compile_ok("{\"additionalProperties\":{\"type\":\"integer\"}}");
	expect_error(s, "{\"n\":\"1\"}", "/n", "type", "/n: type \"integer\", got \"1\"");
	jw_schema_free(s);
}
END_TEST

START_TEST(error_enum_const)
{
	struct jw_schema *s =
	        compile_ok("{\"properties\":{\"status\":{\"enum\":[\"running\",\"waiting\"]},"
	                   "\"kind\":{\"const\":\"job\"}}}");
	expect_valid(s, "{\"status\":\"waiting\",\"kind\":\"job\"}");
	expect_error(s, "{\"status\":\"done\"}", "/status", "enum",
	        "/status: enum [\"running\",\"waiting\"], got \"done\"");
	expect_error(s, "{\"kind\":\"task\"}", "/kind", "const", "/kind: const \"job\", got \"task\"");
	jw_schema_free(s);
}
END_TEST

START_TEST(error_pattern)
{
	struct jw_schema *s = compile_ok(
	        "{\"properties\":{\"id\":{\"pattern\":\"^[a-z]+$\"},\"n\":{\"pattern\":\"^\\\\d+$\"},"
	        "\"w\":{\"pattern\":\"b\"}}}");
	expect_valid(s, "{\"id\":\"abc\",\"n\":\"42\",\"w\":\"abc\"}");
	expect_error(s, "{\"id\":\"ABC\"}", "/id", "pattern", "/id: pattern \"^[a-z]+$\", got \"ABC\"");
	/* \d is ASCII only, as in ECMA-262 without the u flag's classes. */
	expect_error(s, "{\"n\":\"\\u0663\"}", "/n", "pattern", NULL);
	/* "$" does not match before a trailing newline. */
	expect_error(s, "{\"id\":\"abc\\n\"}", "/id", "pattern", NULL);
	/* Unanchored search. */
	expect_error(s, "{\"w\":\"xyz\"}", "/w", "pattern", "/w: pattern \"b\", got \"xyz\"");
	jw_schema_free(s);

	/* \s and \S are ECMA-262's: Unicode white space, in and out of a
	 * class. */
	s = compile_ok("{\"properties\":{\"s\":{\"pattern\":\"^\\\\s$\"},"
	               "\"n\":{\"pattern\":\"^\\\\S$\"},\"c\":{\"pattern\":\"^[\\\\sx]$\"},"
	               "\"d\":{\"pattern\":\"^[\\\\S]$\"}}}");
	expect_valid(s, "{\"s\":\"\\u00a0\",\"n\":\"a\",\"c\":\"\\u3000\",\"d\":\"\\ud83d\\ude00\"}");
	expect_valid(s, "{\"s\":\"\\ufeff\",\"c\":\"x\"}");
	expect_error(s, "{\"n\":\"\\u2028\"}", "/n", "pattern", NULL);
	expect_error(s, "{\"d\":\"\\u00a0\"}", "/d", "pattern", NULL);
	expect_error(s, "{\"s\":\"a\"}", "/s", "pattern", "/s: pattern \"^\\\\s$\", got \"a\"");
	jw_schema_free(s);

	/* ECMA-262 long Unicode category names. */
	s = compile_ok("{\"pattern\":\"^\\\\p{Letter}+$\"}");
	expect_valid(s, "\"\\u03c0\"");
	expect_error(s, "\"123\"", "", "pattern", NULL);
	jw_schema_free(s);
}
END_TEST

START_TEST(error_nested_array)
{
	struct jw_schema *s = compile_ok(
	        "{\"properties\":{\"steps\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	        "\"required\":[\"name\"],\"properties\":{\"name\":{\"type\":\"string\"}}}},"
	        "\"tags\":{\"items\":{\"type\":\"string\"},\"maxItems\":3}}}");
	expect_valid(s, "{\"steps\":[{\"name\":\"a\"},{\"name\":\"b\"}]}");
	expect_error(s, "{\"steps\":[{\"name\":\"a\"},{\"name\":\"b\"},7]}", "/steps/2", "type",
	        "/steps/2: type \"object\", got 7");
	expect_error(s, "{\"steps\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":5}]}", "/steps/2/name",
	        "type", "/steps/2/name: type \"string\", got 5");
	expect_error(s, "{\"steps\":[{}]}", "/steps/0/name", "required",
	        "/steps/0/name: required property \"name\" missing");
	expect_error(s, "{\"tags\":[\"a\",\"b\",\"c\",\"d\"]}", "/tags", "maxItems",
	        "/tags: maxItems 3, got 4 items");
	jw_schema_free(s);

	s = compile_ok("{\"prefixItems\":[{\"type\":\"string\"}],\"items\":false}");
	expect_valid(s, "[\"a\"]");
	expect_error(s, "[\"a\",1]", "/1", "items", "/1: items false: at most 1 items allowed, got 2");
	jw_schema_free(s);
}
END_TEST

START_TEST(error_value_truncated)
{
	char inst[600], msg_prefix[64];
	struct jw_schema_error err;
	struct jw_schema *s = compile_ok("{\"maxLength\":3}");

	memset(inst, 0, sizeof inst);
	inst[0] = '"';
	for(size_t i = 1; i < 500; i++)
		inst[i] = 'a';
	inst[500] = '"';
	ck_assert_int_eq(check(s, inst, &err), 0);
	snprintf(msg_prefix, sizeof msg_prefix, "/: maxLength 3, got \"aaaa");
	ck_assert_msg(strncmp(err.message, msg_prefix, strlen(msg_prefix)) == 0, "%s", err.message);
	ck_assert_msg(strstr(err.message, "...") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "(length 499)") != NULL, "%s", err.message);
	ck_assert_uint_lt(strlen(err.message), 160);
	jw_schema_free(s);
}
END_TEST

START_TEST(unsupported_keyword)
{
	compile_fails("{\"properties\":{\"a\":{\"dependencies\":{}}}}",
	        "schemas/x.json: unsupported keyword \"dependencies\" at /properties/a");
	compile_fails("{\"tyep\":\"string\"}", "schemas/x.json: unsupported keyword \"tyep\" at /");
	compile_fails("{\"$defs\":{\"a\":{\"$anchor\":\"1x\"}}}",
	        "schemas/x.json: \"$anchor\" must be a name matching "
	        "^[A-Za-z_][-A-Za-z0-9._]*$ at /$defs/a");
	compile_fails("{\"items\":{\"$recursiveRef\":\"#\"}}",
	        "schemas/x.json: unsupported keyword \"$recursiveRef\" at /items");
	compile_fails("{\"items\":{\"$dynamicRef\":\"#x\"}}",
	        "schemas/x.json: $dynamicRef \"#x\" does not resolve (no anchor named x) at /items");
	compile_fails("{\"properties\":{\"a\":{\"$id\":\"a.json#x\"}}}",
	        "schemas/x.json: \"$id\" \"a.json#x\" has a fragment (name a place with "
	        "\"$anchor\") at /properties/a");
	compile_fails("{\"properties\":{\"a\":{\"$schema\":\"x\"}}}",
	        "schemas/x.json: unsupported keyword \"$schema\" (accepted only at a resource "
	        "root: the document root or beside \"$id\") at /properties/a");
	compile_fails("{\"allOf\":[true,{\"contentMediaType\":7}]}",
	        "schemas/x.json: \"contentMediaType\" must be a string at /allOf/1");
	compile_fails("{\"contentSchema\":1}",
	        "schemas/x.json: \"contentSchema\" must be a schema (an object or a boolean) at /");
	compile_fails("{\"X-owner\":\"ops\"}", "schemas/x.json: unsupported keyword \"X-owner\" at /");

	/* "x-" keywords are the author's annotations, whatever their value. */
	struct jw_schema *x = compile_ok("{\"x-owner\":\"ops\",\"properties\":{\"a\":"
	                                 "{\"x-ui\":{\"widget\":\"slider\"},\"maximum\":3}}}");
	expect_valid(x, "{\"a\":3}");
	expect_error(x, "{\"a\":4}", "/a", "maximum", "/a: maximum 3, got 4");
	jw_schema_free(x);

	/* On request, any unknown keyword is an annotation. */
	static const struct jw_schema_options annotations = {.flags = JW_SCHEMA_UNKNOWN_AS_ANNOTATION};
	char err[256];
	struct json_object *doc = json_tokener_parse("{\"tyep\":\"string\",\"minimum\":1}");
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(jw_schema_compile_opts(doc, "x", &annotations, &x, err, sizeof err), 0);
	expect_valid(x, "\"s\"");
	expect_error(x, "0", "", "minimum", NULL);
	jw_schema_free(x);
	json_object_put(doc);

	/* Annotations and a root $id are accepted. */
	struct jw_schema *s = compile_ok(
	        "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"urn:x\","
	        "\"$comment\":\"c\",\"title\":\"t\",\"description\":\"d\",\"default\":1,"
	        "\"examples\":[1],\"deprecated\":false,\"readOnly\":false,\"writeOnly\":false,"
	        "\"contentMediaType\":\"application/json\",\"contentEncoding\":\"base64\","
	        "\"contentSchema\":{\"type\":\"object\"},"
	        "\"$vocabulary\":{\"https://json-schema.org/draft/2020-12/vocab/core\":true}}");
	expect_valid(s, "1");
	jw_schema_free(s);
}
END_TEST

START_TEST(unsupported_format)
{
	compile_fails("{\"properties\":{\"e\":{\"format\":\"e-mail\"}}}",
	        "schemas/x.json: unsupported format \"e-mail\" (supported: \"date\", "
	        "\"date-time\", \"duration\", \"email\", \"hostname\", \"idn-email\", "
	        "\"idn-hostname\", \"ipv4\", \"ipv6\", \"iri\", \"iri-reference\", "
	        "\"json-pointer\", \"regex\", \"relative-json-pointer\", \"time\", \"uri\", "
	        "\"uri-reference\", \"uri-template\", \"uuid\") at /properties/e");
}
END_TEST

START_TEST(malformed_values)
{
	compile_fails("{\"minimum\":\"x\"}", "schemas/x.json: \"minimum\" must be a number at /");
	compile_fails("{\"required\":5}",
	        "schemas/x.json: \"required\" must be an array of unique strings at /");
	compile_fails(
	        "{\"required\":[\"a\",\"a\"]}", "schemas/x.json: \"required\" lists \"a\" twice at /");
	compile_fails(
	        "{\"multipleOf\":0}", "schemas/x.json: \"multipleOf\" must be greater than 0 at /");
	compile_fails("{\"maxLength\":-1}",
	        "schemas/x.json: \"maxLength\" must be a non-negative integer at /");
	compile_fails("{\"type\":\"text\"}", "schemas/x.json: unknown type \"text\" at /");
	compile_fails("{\"items\":[{}]}",
	        "schemas/x.json: \"items\" must be a schema (draft 2020-12 spells tuples "
	        "\"prefixItems\") at /");
	compile_fails("{\"properties\":{\"a\":5}}",
	        "schemas/x.json: a schema must be an object or a boolean, got 5 at /properties/a");
	compile_fails("{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}",
	        "schemas/x.json: unsupported $schema \"http://json-schema.org/draft-07/schema#\" "
	        "(only \"https://json-schema.org/draft/2020-12/schema\") at /");

	struct json_object *doc = parse("{\"properties\":{\"a\":{\"pattern\":\"(\"}}}");
	struct jw_schema *s = NULL;
	char err[512];
	ck_assert_int_eq(jw_schema_compile(doc, SOURCE, &s, err, sizeof err), -1);
	json_object_put(doc);
	const char *want = "schemas/x.json: \"pattern\" \"(\" does not compile: ";
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	ck_assert_msg(strstr(err, " at /properties/a") != NULL, "%s", err);
}
END_TEST

START_TEST(bad_ref)
{
	compile_fails("{\"$ref\":\"#/$defs/missing\"}",
	        "schemas/x.json: $ref \"#/$defs/missing\" does not resolve at /");
	compile_fails("{\"properties\":{\"a\":{\"$ref\":\"other.json#/a\"}}}",
	        "schemas/x.json: $ref \"other.json#/a\" does not resolve (no schema has the URI "
	        "file:///schemas/other.json) at /properties/a");
	compile_fails("{\"$ref\":\"#node\"}",
	        "schemas/x.json: $ref \"#node\" does not resolve (no anchor named node) at /");
	compile_fails("{\"$ref\":\"#/$defs/a%2\",\"$defs\":{\"a\":true}}",
	        "schemas/x.json: $ref \"#/$defs/a%2\" has a malformed %-escape at /");
	compile_fails("{\"$defs\":{\"a\":{\"enum\":[1]}},\"$ref\":\"#/$defs/a/enum\"}",
	        "schemas/x.json: $ref \"#/$defs/a/enum\" does not point to a schema at /");
	/* A target outside any schema position is compiled where it is, and
	 * must be a valid schema. */
	compile_fails("{\"$defs\":{\"a\":{\"enum\":[{\"bogus\":1}]}},\"$ref\":\"#/$defs/a/enum/0\"}",
	        "schemas/x.json: unsupported keyword \"bogus\" at /$defs/a/enum/0");
	struct jw_schema *s = compile_ok("{\"examples\":[{\"type\":\"integer\"}],"
	                                 "\"properties\":{\"a\":{\"$ref\":\"#/examples/0\"}}}");
	expect_valid(s, "{\"a\":1}");
	expect_error(s, "{\"a\":\"x\"}", "/a", "type", "/a: type \"integer\", got \"x\"");
	jw_schema_free(s);

	/* $anchor, and $id giving a subschema a URI of its own that a $ref
	 * resolves against the document's base. */
	s = compile_ok("{\"$id\":\"https://example.com/root.json\","
	               "\"properties\":{\"a\":{\"$ref\":\"#pos\"},\"b\":{\"$ref\":\"item.json\"}},"
	               "\"$defs\":{\"p\":{\"$anchor\":\"pos\",\"minimum\":0},"
	               "\"i\":{\"$id\":\"item.json\",\"type\":\"string\"}}}");
	expect_valid(s, "{\"a\":1,\"b\":\"x\"}");
	expect_error(s, "{\"a\":-1}", "/a", "minimum", NULL);
	expect_error(s, "{\"b\":1}", "/b", "type", NULL);
	jw_schema_free(s);
}
END_TEST

START_TEST(ref_pointers)
{
	struct jw_schema *s =
	        compile_ok("{\"$defs\":{\"a%b\":{\"type\":\"integer\"},\"t~\":{\"maximum\":5}},"
	                   "\"properties\":{\"foo/bar\":{\"minimum\":1},"
	                   "\"x\":{\"$ref\":\"#/$defs/a%25b\"},"
	                   "\"y\":{\"$ref\":\"#/properties/foo~1bar\"},"
	                   "\"z\":{\"$ref\":\"#/$defs/t~0\"}}}");
	expect_valid(s, "{\"x\":1,\"y\":1,\"z\":5}");
	expect_error(s, "{\"x\":1.5}", "/x", "type", NULL);
	expect_error(s, "{\"y\":0}", "/y", "minimum", "/y: minimum 1, got 0");
	expect_error(s, "{\"z\":6}", "/z", "maximum", NULL);
	jw_schema_free(s);
}
END_TEST

START_TEST(recursive_ref)
{
	struct jw_schema *s =
	        compile_ok("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
	                   "\"children\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}},"
	                   "\"additionalProperties\":false}");
	expect_valid(s, "{\"name\":\"a\",\"children\":[{\"children\":[{\"name\":\"c\"}]}]}");
	expect_error(s, "{\"children\":[{\"children\":[{\"name\":1}]}]}", "/children/0/children/0/name",
	        "type", NULL);
	jw_schema_free(s);

	/* Mutual recursion through $defs that descends into the instance. */
	s = compile_ok("{\"$defs\":{\"a\":{\"items\":{\"$ref\":\"#/$defs/b\"}},"
	               "\"b\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/a\"}}},"
	               "\"$ref\":\"#/$defs/a\"}");
	expect_valid(s, "[[[[]]]]");
	expect_error(s, "[[[1]]]", "/0/0/0", "type", "/0/0/0: type \"array\", got 1");
	jw_schema_free(s);

	/* Recursion that never descends would loop forever: refused. */
	compile_fails("{\"$ref\":\"#\"}",
	        "schemas/x.json: infinite $ref recursion: this schema reaches itself again "
	        "without descending into the instance at /");
	compile_fails("{\"$defs\":{\"a\":{\"anyOf\":[{\"$ref\":\"#/$defs/b\"}]},"
	              "\"b\":{\"not\":{\"$ref\":\"#/$defs/a\"}}}}",
	        "schemas/x.json: infinite $ref recursion: this schema reaches itself again "
	        "without descending into the instance at /$defs/b/not");
}
END_TEST

START_TEST(code_point_lengths)
{
	struct jw_schema *s = compile_ok("{\"minLength\":2,\"maxLength\":3}");
	/* "é" is one code point (two bytes); U+1F600 is one (four bytes). */
	expect_valid(s, "\"\\u00e9\\u00e9\"");
	expect_valid(s, "\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\"");
	expect_error(s, "\"\\u00e9\"", "", "minLength", "/: minLength 2, got \"\xc3\xa9\" (length 1)");
	expect_error(s, "\"\\u00e9\\u00e9\\u00e9\\u00e9\"", "", "maxLength", NULL);
	jw_schema_free(s);
}
END_TEST

START_TEST(deep_equality)
{
	struct jw_schema *s = compile_ok("{\"uniqueItems\":true}");
	expect_valid(s, "[1,true,\"1\",null,[1],{\"a\":1}]");
	expect_valid(s, "[0,false]");
	expect_valid(s, "[{\"a\":1},{\"a\":1,\"b\":1}]");
	expect_error(s, "[{\"a\":1,\"b\":[2]},{\"b\":[2.0],\"a\":1.0}]", "/1", "uniqueItems",
	        "/1: uniqueItems true (same as item 0), got {\"b\":[2.0],\"a\":1.0}");
	expect_error(s, "[\"x\",1,1.0]", "/2", "uniqueItems", NULL);
	jw_schema_free(s);

	/* Long arrays take the hashing path; the report is still the first
	 * duplicate by position. */
	char buf[2048];
	size_t len = 0;
	len += (size_t)snprintf(buf + len, sizeof buf - len, "[");
	for(int i = 0; i < 100; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "{\"k\":%d},", i);
	snprintf(buf + len, sizeof buf - len, "{\"k\":42.0},{\"k\":7}]");
	s = compile_ok("{\"uniqueItems\":true}");
	expect_error(s, buf, "/100", "uniqueItems",
	        "/100: uniqueItems true (same as item 42), got {\"k\":42.0}");
	buf[len - 1] = ']';
	buf[len] = '\0';
	expect_valid(s, buf);
	jw_schema_free(s);

	s = compile_ok("{\"const\":{\"a\":[1,{\"b\":null}],\"c\":false}}");
	expect_valid(s, "{\"c\":false,\"a\":[1.0,{\"b\":null}]}");
	expect_error(s, "{\"c\":0,\"a\":[1,{\"b\":null}]}", "", "const", NULL);
	expect_error(s, "{\"c\":false,\"a\":[1,{\"b\":null}],\"d\":1}", "", "const", NULL);
	jw_schema_free(s);

	s = compile_ok("{\"enum\":[null,1,\"a\"]}");
	expect_valid(s, "null");
	expect_valid(s, "1.0");
	expect_error(s, "false", "", "enum", "/: enum [null,1,\"a\"], got false");
	jw_schema_free(s);
}
END_TEST

START_TEST(numbers)
{
	/* 2^53 + 1 is not a double; the comparison must stay exact. */
	struct jw_schema *s = compile_ok("{\"exclusiveMaximum\":9007199254740993}");
	expect_valid(s, "9007199254740992");
	expect_valid(s, "9007199254740992.0");
	expect_error(s, "9007199254740993", "", "exclusiveMaximum", NULL);
	jw_schema_free(s);

	s = compile_ok("{\"maximum\":9223372036854775807,\"minimum\":-9223372036854775808}");
	expect_valid(s, "9223372036854775807");
	expect_valid(s, "-9223372036854775808");
	expect_error(s, "9223372036854775808", "", "maximum", NULL);
	expect_error(s, "1e19", "", "maximum", NULL);
	jw_schema_free(s);

	s = compile_ok("{\"multipleOf\":0.0001}");
	expect_valid(s, "0.0075");
	expect_valid(s, "12");
	expect_error(s, "0.00751", "", "multipleOf", "/: multipleOf 0.0001, got 0.00751");
	jw_schema_free(s);

	s = compile_ok("{\"multipleOf\":0.123456789}");
	expect_error(s, "1e308", "", "multipleOf", NULL);
	jw_schema_free(s);

	s = compile_ok("{\"multipleOf\":3}");
	expect_valid(s, "-9");
	expect_valid(s, "9.0");
	expect_error(s, "10", "", "multipleOf", "/: multipleOf 3, got 10");
	jw_schema_free(s);
}
END_TEST

/*
 * Every numeric keyword on the exact values: integers past 2^53 (which
 * read as their neighbours in doubles), past int64, and decimals next to
 * an integer or to another decimal with the same double. The leaf form
 * (type and bounds alone) and the general form must agree.
 */
START_TEST(numbers_exact)
{
	struct jw_schema *s;
	char text[256];

	for(size_t w = 0; w < 2; w++) {
		/* minimum / maximum, as a member (the leaf form) and at the root. */
		snprintf(text, sizeof text, "{\"properties\":{\"n\":%s}}",
		        w ? "{\"allOf\":[true],\"maximum\":9007199254740992}"
		          : "{\"maximum\":9007199254740992}");
		s = compile_ok(text);
		expect_valid(s, "{\"n\":9007199254740992}");
		expect_valid(s, "{\"n\":9007199254740992.0}");
		expect_valid(s, "{\"n\":9007199254740991.5}");
		expect_error(s, "{\"n\":9007199254740993}", "/n", "maximum",
		        "/n: maximum 9007199254740992, got 9007199254740993");
		expect_error(s, "{\"n\":9007199254740993.0}", "/n", "maximum",
		        "/n: maximum 9007199254740992, got 9007199254740993.0");
		expect_error(s, "{\"n\":9007199254740992.0000001}", "/n", "maximum", NULL);
		expect_error(s, "{\"n\":9.007199254740993e15}", "/n", "maximum", NULL);
		jw_schema_free(s);

		snprintf(text, sizeof text, "{\"properties\":{\"n\":%s}}",
		        w ? "{\"allOf\":[true],\"minimum\":100,\"maximum\":100}"
		          : "{\"minimum\":100,\"maximum\":100}");
		s = compile_ok(text);
		expect_valid(s, "{\"n\":100}");
		expect_valid(s, "{\"n\":100.0}");
		expect_valid(s, "{\"n\":1e2}");
		expect_error(s, "{\"n\":100.00000000000000001}", "/n", "maximum",
		        "/n: maximum 100, got 100.00000000000000001");
		expect_error(s, "{\"n\":99.999999999999999999}", "/n", "minimum",
		        "/n: minimum 100, got 99.999999999999999999");
		jw_schema_free(s);
	}

	/* Decimal bounds: 0.1 is not a double, the text is exact. */
	s = compile_ok("{\"maximum\":0.1,\"exclusiveMinimum\":0.1e-20}");
	expect_valid(s, "0.1");
	expect_valid(s, "0.09999999999999999999");
	expect_error(s, "0.10000000000000000001", "", "maximum",
	        "/: maximum 0.1, got 0.10000000000000000001");
	expect_error(s, "1e-21", "", "exclusiveMinimum", "/: exclusiveMinimum 0.1e-20, got 1e-21");
	expect_valid(s, "1.0000000000000000001e-21");
	jw_schema_free(s);

	/* Beyond int64. */
	s = compile_ok("{\"minimum\":18446744073709551616,\"exclusiveMaximum\":18446744073709551618}");
	expect_valid(s, "18446744073709551616");
	expect_valid(s, "18446744073709551617");
	expect_error(s, "18446744073709551615", "", "minimum",
	        "/: minimum 18446744073709551616, got 18446744073709551615");
	expect_error(s, "18446744073709551618", "", "exclusiveMaximum", NULL);
	expect_error(s, "1.8446744073709551618e19", "", "exclusiveMaximum", NULL);
	jw_schema_free(s);

	/* const and enum: 2^53 + 1 is not 2^53, 1.0 is 1. */
	s = compile_ok("{\"const\":9007199254740993}");
	expect_valid(s, "9007199254740993");
	expect_valid(s, "9007199254740993.0");
	expect_valid(s, "90071992547409930e-1");
	expect_error(
	        s, "9007199254740992", "", "const", "/: const 9007199254740993, got 9007199254740992");
	expect_error(s, "9007199254740994", "", "const", NULL);
	jw_schema_free(s);
	s = compile_ok("{\"enum\":[18446744073709551617,0.1,[9007199254740993]]}");
	expect_valid(s, "18446744073709551617");
	expect_valid(s, "0.10");
	expect_valid(s, "[9007199254740993.00]");
	expect_error(s, "18446744073709551616", "", "enum", NULL);
	expect_error(s, "0.1000000000000000000001", "", "enum", NULL);
	expect_error(s, "[9007199254740992]", "", "enum", NULL);
	jw_schema_free(s);
	s = compile_ok("{\"uniqueItems\":true}");
	expect_valid(s, "[9007199254740992,9007199254740993]");
	expect_valid(s, "[18446744073709551616,18446744073709551617]");
	expect_valid(s, "[0.1,0.10000000000000000001]");
	expect_error(s, "[9007199254740993,9007199254740993.0]", "/1", "uniqueItems", NULL);
	expect_error(s, "[1e19,10000000000000000000]", "/1", "uniqueItems", NULL);
	jw_schema_free(s);

	/* multipleOf on integers beyond 2^53 and int64, and on decimals. */
	s = compile_ok("{\"multipleOf\":2}");
	expect_valid(s, "9007199254740994");
	expect_error(s, "9007199254740993", "", "multipleOf", NULL);
	expect_valid(s, "18446744073709551616");
	expect_error(s, "18446744073709551617", "", "multipleOf",
	        "/: multipleOf 2, got 18446744073709551617");
	expect_valid(s, "1e30");
	expect_error(s, "1000000000000000000000000000001", "", "multipleOf", NULL);
	expect_error(s, "4.0000000000000000001", "", "multipleOf", NULL);
	jw_schema_free(s);
	s = compile_ok("{\"multipleOf\":0.01}");
	expect_valid(s, "19.99");
	expect_valid(s, "123456789012345678901234.56");
	expect_error(s, "19.991", "", "multipleOf", NULL);
	expect_error(s, "0.010000000000000000001", "", "multipleOf", NULL);
	jw_schema_free(s);
	s = compile_ok("{\"multipleOf\":3}");
	expect_valid(s, "9223372036854775809"); /* 3 * 3074457345618258603 */
	expect_error(s, "9223372036854775808", "", "multipleOf", NULL);
	jw_schema_free(s);
	s = compile_ok("{\"multipleOf\":0.5}");
	expect_valid(s, "1e308"); /* the suite's float-overflow case */
	expect_valid(s, "4.5");
	expect_error(s, "4.50000000000000000001", "", "multipleOf", NULL);
	jw_schema_free(s);

	/* "integer" by the exact value. */
	s = compile_ok("{\"type\":\"integer\"}");
	expect_valid(s, "9007199254740993.0");
	expect_valid(s, "18446744073709551617.000");
	expect_valid(s, "1.5e1");
	expect_error(s, "1.0000000000000000001", "", "type", NULL);
	expect_error(s, "9007199254740992.5", "", "type", NULL);
	expect_error(s, "1e-400", "", "type", NULL);
	jw_schema_free(s);
}
END_TEST

/*
 * Empty arrays, objects and strings, in schemas and in instances, at the
 * root and nested: an empty container has no items to point at, and the
 * validator must not do arithmetic on its (absent) item pointer. Under
 * -fsanitize=undefined (JW_SANITIZE) such arithmetic aborts the test.
 */
START_TEST(empty_values)
{
	static const char *const schemas[] = {
	        "{}",
	        "{\"required\":[]}",
	        "{\"properties\":{}}",
	        "{\"properties\":{\"a\":{}}}",
	        "{\"properties\":{\"a\":{\"type\":\"array\",\"maxItems\":0}},\"required\":[\"a\"]}",
	        "{\"properties\":{\"a\":{\"type\":\"string\",\"maxLength\":0}},"
	        "\"additionalProperties\":false}",
	        "{\"patternProperties\":{}}",
	        "{\"patternProperties\":{\"\":{\"type\":\"object\"}}}",
	        "{\"dependentRequired\":{}}",
	        "{\"dependentRequired\":{\"a\":[]}}",
	        "{\"dependentSchemas\":{}}",
	        "{\"dependentSchemas\":{\"a\":{}}}",
	        "{\"$defs\":{}}",
	        "{\"const\":[]}",
	        "{\"const\":{}}",
	        "{\"const\":\"\"}",
	        "{\"enum\":[[],{},\"\"]}",
	        "{\"enum\":[]}",
	        "{\"pattern\":\"\"}",
	        "{\"pattern\":\"^$\"}",
	        "{\"prefixItems\":[]}",
	        "{\"prefixItems\":[{}],\"items\":false}",
	        "{\"items\":{}}",
	        "{\"items\":false}",
	        "{\"contains\":{},\"minContains\":0}",
	        "{\"contains\":{}}",
	        "{\"uniqueItems\":true}",
	        "{\"minItems\":0,\"maxItems\":0}",
	        "{\"minProperties\":0,\"maxProperties\":0}",
	        "{\"propertyNames\":{\"maxLength\":0}}",
	        "{\"propertyNames\":false}",
	        "{\"minLength\":0,\"maxLength\":0}",
	        "{\"format\":\"date-time\"}",
	        "{\"format\":\"uuid\"}",
	        "{\"allOf\":[{}]}",
	        "{\"anyOf\":[{\"maxItems\":0}]}",
	        "{\"oneOf\":[{\"required\":[]}]}",
	        "{\"not\":{\"required\":[]}}",
	        "{\"if\":{\"required\":[]},\"then\":{\"maxProperties\":0}}",
	        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},"
	        "\"required\":[\"a\"]}",
	        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}",
	        "{\"properties\":{\"a\":{\"properties\":{\"b\":{}}}}}",
	        "{\"items\":{\"properties\":{\"a\":{\"type\":\"integer\"}},\"additionalProperties\":"
	        "false}}",
	};
	static const char *const instances[] = {"[]", "{}", "\"\"", "[[]]", "[{}]", "[\"\"]",
	        "{\"a\":[]}", "{\"a\":{}}", "{\"a\":\"\"}", "{\"\":{}}", "[[],{},\"\"]",
	        "{\"a\":{\"b\":[]}}"};

	for(size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
		struct json_object *doc = parse(schemas[i]);
		struct jw_schema *s = NULL;
		char err[512];

		if(jw_schema_compile(doc, SOURCE, &s, err, sizeof err) < 0) {
			/* Refused by the compiler ("enum": [] and the like): fine,
			 * as long as it says why. */
			ck_assert_msg(err[0] != '\0', "%s refused without a reason", schemas[i]);
			json_object_put(doc);
			continue;
		}
		json_object_put(doc);
		for(size_t k = 0; k < sizeof instances / sizeof instances[0]; k++) {
			struct jw_schema_error e;
			struct jw_jdoc d;
			struct jw_json_error jerr;
			int r = check(s, instances[k], &e);

			ck_assert_msg(r == 0 || r == 1, "%s against %s: %d", instances[k], schemas[i], r);
			/* The arena path, which the broker takes. */
			jw_jdoc_init(&d);
			ck_assert_int_eq(jw_jdoc_parse(&d, instances[k], strlen(instances[k]), 8, &jerr), 0);
			ck_assert_int_eq(jw_schema_validate_node(s, d.root, NULL), r);
			jw_jdoc_free(&d);
		}
		jw_schema_free(s);
	}
}
END_TEST

START_TEST(formats)
{
	struct jw_schema *s = compile_ok(
	        "{\"properties\":{\"ts\":{\"format\":\"date-time\"},\"id\":{\"format\":\"uuid\"}}}");
	expect_valid(
	        s, "{\"ts\":\"2024-02-29T23:59:60Z\",\"id\":\"2EB8AA08-aa98-11ea-b4aa-73b441d16380\"}");
	expect_valid(s, "{\"ts\":\"1998-12-31t15:59:60.5-08:00\"}");
	expect_valid(s, "{\"ts\":5}");
	expect_error(s, "{\"ts\":\"2023-02-29T10:00:00Z\"}", "/ts", "format",
	        "/ts: format \"date-time\", got \"2023-02-29T10:00:00Z\"");
	expect_error(s, "{\"ts\":\"2024-01-01T22:59:60Z\"}", "/ts", "format", NULL);
	expect_error(s, "{\"ts\":\"2024-01-01 10:00:00Z\"}", "/ts", "format", NULL);
	expect_error(s, "{\"ts\":\"2024-01-01T10:00:00\"}", "/ts", "format", NULL);
	expect_error(s, "{\"ts\":\"1900-02-29T10:00:00Z\"}", "/ts", "format", NULL);
	expect_error(s, "{\"id\":\"2eb8aa08aa9811eab4aa73b441d16380\"}", "/id", "format",
	        "/id: format \"uuid\", got \"2eb8aa08aa9811eab4aa73b441d16380\"");
	jw_schema_free(s);

	/* The other formats: one valid and one invalid value each (the
	 * conformance test has the rest), and the message names the format. */
	static const struct {
		const char *format, *valid, *invalid;
	} cases[] = {
	        {"date", "2024-02-29", "2023-02-29"},
	        {"time", "23:59:60Z", "12:00:00"},
	        {"duration", "P1DT12H", "P1Y2D"},
	        {"email", "joe.bloggs@example.com", "te..st@example.com"},
	        {"idn-email", "\\u5b9f\\u4f8b@\\u5b9f\\u4f8b.test", "user\\uff20example.com"},
	        {"hostname", "www.example.com", "-host"},
	        {"idn-hostname", "\\uc2e4\\ub840.\\ud14c\\uc2a4\\ud2b8", "l\\u00b7a"},
	        {"ipv4", "192.168.0.1", "127.1"},
	        {"ipv6", "::ffff:192.168.0.1", "1::2::3"},
	        {"uri", "http://example.com/a?b#c", "//example.com"},
	        {"uri-reference", "//example.com/a", "\\\\\\\\host"},
	        {"iri", "http://\\u00e9.example/", "\\u00e9"},
	        {"iri-reference", "\\u00e9/x", "x y"},
	        {"uri-template", "/a/{b}{?c,d*}", "/a/{b"},
	        {"json-pointer", "/a~1b", "/a~2"},
	        {"relative-json-pointer", "0#", "01"},
	        {"regex", "^a+$", "(?i)a"},
	};
	for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char schema[96], valid[96], invalid[96], msg[160];
		snprintf(schema, sizeof schema, "{\"format\":\"%s\"}", cases[i].format);
		snprintf(valid, sizeof valid, "\"%s\"", cases[i].valid);
		snprintf(invalid, sizeof invalid, "\"%s\"", cases[i].invalid);
		s = compile_ok(schema);
		expect_valid(s, valid);
		expect_valid(s, "12");
		snprintf(msg, sizeof msg, "format \"%s\", got ", cases[i].format);
		expect_error(s, invalid, "", "format", NULL);
		struct jw_schema_error err;
		ck_assert_int_eq(check(s, invalid, &err), 0);
		ck_assert_msg(strstr(err.message, msg) != NULL, "%s: %s", cases[i].format, err.message);
		jw_schema_free(s);
	}
}
END_TEST

START_TEST(unevaluated)
{
	/* The 2020-12 way to close a composed object. */
	struct jw_schema *s = compile_ok(
	        "{\"allOf\":[{\"properties\":{\"a\":{\"type\":\"integer\"}}}],"
	        "\"anyOf\":[{\"properties\":{\"b\":true},\"required\":[\"b\"]},"
	        "{\"properties\":{\"c\":true},\"required\":[\"c\"]}],"
	        "\"if\":{\"required\":[\"kind\"],\"properties\":{\"kind\":{\"const\":\"x\"}}},"
	        "\"then\":{\"properties\":{\"x\":true}},"
	        "\"patternProperties\":{\"^x-\":true},"
	        "\"unevaluatedProperties\":false}");
	expect_valid(s, "{\"a\":1,\"b\":2,\"x-trace\":\"t\"}");
	expect_valid(s, "{\"c\":1,\"kind\":\"x\",\"x\":0}");
	expect_error(s, "{\"b\":1,\"d\":2}", "/d", "unevaluatedProperties",
	        "/d: unevaluatedProperties: property \"d\" is not allowed (no applied subschema "
	        "evaluated it)");
	/* A subschema that fails evaluates nothing: c's anyOf branch (c
	 * absent), and "if" when kind is not "x", so kind itself is then
	 * unevaluated (and x would be too). */
	expect_error(s, "{\"b\":1,\"kind\":\"y\",\"x\":0}", "/kind", "unevaluatedProperties", NULL);
	/* The other keywords are checked first. */
	expect_error(s, "{\"a\":\"1\",\"b\":1}", "/a", "type", NULL);
	jw_schema_free(s);

	s = compile_ok("{\"prefixItems\":[{\"type\":\"string\"}],"
	               "\"allOf\":[{\"contains\":{\"type\":\"integer\"}}],"
	               "\"unevaluatedItems\":{\"type\":\"boolean\"}}");
	expect_valid(s, "[\"a\",1,true,2]");
	expect_error(s, "[\"a\",1,null]", "/2", "type", "/2: type \"boolean\", got null");
	jw_schema_free(s);

	s = compile_ok("{\"$ref\":\"#/$defs/base\",\"unevaluatedItems\":false,"
	               "\"$defs\":{\"base\":{\"prefixItems\":[true,true]}}}");
	expect_valid(s, "[1,2]");
	expect_error(s, "[1,2,3]", "/2", "unevaluatedItems",
	        "/2: unevaluatedItems: item 2 is not allowed (no applied subschema evaluated "
	        "it)");
	jw_schema_free(s);
}
END_TEST

START_TEST(dynamic_ref)
{
	/* A generic list whose item schema the referring schema chooses: the
	 * outermost "$dynamicAnchor": "item" of the dynamic scope wins. */
	struct jw_schema *s = compile_ok(
	        "{\"$id\":\"https://example.com/ints\",\"$ref\":\"list\","
	        "\"$defs\":{\"item\":{\"$dynamicAnchor\":\"item\",\"type\":\"integer\"},"
	        "\"list\":{\"$id\":\"list\",\"type\":\"array\",\"items\":{\"$dynamicRef\":\"#item\"},"
	        "\"$defs\":{\"any\":{\"$dynamicAnchor\":\"item\"}}}}}");
	expect_valid(s, "[1,2]");
	expect_error(s, "[1,\"x\"]", "/1", "type",
	        "/1: type \"integer\", got \"x\" ($dynamicRef \"#item\" in the dynamic scope: "
	        "https://example.com/ints)");
	jw_schema_free(s);

	/* Alone, the list takes its own anchor: anything goes. */
	s = compile_ok("{\"$id\":\"https://example.com/list\",\"type\":\"array\","
	               "\"items\":{\"$dynamicRef\":\"#item\"},"
	               "\"$defs\":{\"any\":{\"$dynamicAnchor\":\"item\"}}}");
	expect_valid(s, "[1,\"x\"]");
	jw_schema_free(s);
}
END_TEST

START_TEST(alternatives)
{
	struct jw_schema *s =
	        compile_ok("{\"properties\":{\"p\":{\"anyOf\":[{\"type\":\"null\"},"
	                   "{\"type\":\"number\",\"maximum\":100}]},"
	                   "\"q\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]},"
	                   "\"r\":{\"oneOf\":[{\"minimum\":0},{\"maximum\":10}]}}}");
	expect_valid(s, "{\"p\":null,\"q\":3,\"r\":20}");
	/* One alternative got further than the others: its error is reported. */
	expect_error(s, "{\"p\":140}", "/p", "maximum", "/p: maximum 100, got 140");
	expect_error(s, "{\"q\":true}", "/q", "anyOf", "/q: anyOf: no alternative matched, got true");
	expect_error(
	        s, "{\"r\":5}", "/r", "oneOf", "/r: oneOf: alternatives 0 and 1 both matched, got 5");
	jw_schema_free(s);

	s = compile_ok(
	        "{\"not\":{\"type\":\"string\"},"
	        "\"if\":{\"type\":\"integer\"},\"then\":{\"minimum\":1},\"else\":{\"type\":\"null\"}}");
	expect_valid(s, "1");
	expect_valid(s, "null");
	expect_error(s, "\"s\"", "", "not", "/: not: value matches the excluded schema, got \"s\"");
	expect_error(s, "0", "", "minimum", "/: minimum 1, got 0");
	expect_error(s, "1.5", "", "type", NULL);
	jw_schema_free(s);
}
END_TEST

START_TEST(object_keywords)
{
	struct jw_schema *s = compile_ok(
	        "{\"propertyNames\":{\"pattern\":\"^[a-z_]+$\"},\"maxProperties\":3,"
	        "\"dependentRequired\":{\"current\":[\"total\"]},"
	        "\"dependentSchemas\":{\"total\":{\"properties\":{\"total\":{\"minimum\":1}}}}}");
	expect_valid(s, "{\"current\":1,\"total\":2}");
	expect_error(s, "{\"Foo\":1}", "/Foo", "propertyNames",
	        "/Foo: propertyNames: pattern \"^[a-z_]+$\", got \"Foo\"");
	expect_error(s, "{\"current\":1}", "/total", "dependentRequired",
	        "/total: dependentRequired property \"total\" missing (required when "
	        "\"current\" is present)");
	expect_error(s, "{\"total\":0}", "/total", "minimum", NULL);
	expect_error(s, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", "", "maxProperties",
	        "/: maxProperties 3, got 4 properties");
	jw_schema_free(s);

	s = compile_ok("{\"contains\":{\"const\":1},\"maxContains\":2}");
	expect_valid(s, "[1,2,1]");
	expect_error(s, "[2,3]", "", "contains", "/: contains: no item matched, got [2,3]");
	expect_error(s, "[1,1,1]", "", "maxContains", "/: maxContains 2, got 3 matching items");
	jw_schema_free(s);
}
END_TEST

START_TEST(boolean_schemas)
{
	struct jw_schema *s = compile_ok("true");
	expect_valid(s, "{\"anything\":[1]}");
	jw_schema_free(s);

	s = compile_ok("false");
	expect_error(s, "1", "", "false", "/: false schema: no value is allowed here, got 1");
	jw_schema_free(s);

	s = compile_ok("{\"properties\":{\"gone\":false}}");
	expect_valid(s, "{}");
	expect_error(s, "{\"gone\":0}", "/gone", "false", NULL);
	jw_schema_free(s);

	/* NULL instance is JSON null. */
	s = compile_ok("{\"type\":\"null\"}");
	ck_assert_int_eq(jw_schema_validate(s, NULL, NULL), 1);
	jw_schema_free(s);
	jw_schema_free(NULL);
}
END_TEST

/* ---- fast paths: each is checked against a slow path or a reference ---- */

/* A growing NUL-terminated buffer for generated JSON. */
struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if(b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void buf_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof tmp);
	buf_add(b, tmp, (size_t)n);
}

/* s (n bytes, valid UTF-8) as a JSON string literal. */
static void buf_str(struct buf *b, const char *s, size_t n)
{
	buf_add(b, "\"", 1);
	for(size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if(ch == '"' || ch == '\\')
			buf_fmt(b, "\\%c", ch);
		else if(ch < 0x20)
			buf_fmt(b, "\\u%04x", ch);
		else
			buf_add(b, s + i, 1);
	}
	buf_add(b, "\"", 1);
}

/* Deterministic pseudo-random numbers (xorshift64). */
static uint64_t rnd_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static size_t rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

/* Runs instance against two schemas that must agree on everything. */
static void expect_same(const struct jw_schema *a, const struct jw_schema *b, const char *instance)
{
	struct jw_schema_error ea, eb;
	int ra = check(a, instance, &ea);
	int rb = check(b, instance, &eb);

	ck_assert_msg(ra == rb, "%s: verdicts %d and %d", instance, ra, rb);
	ck_assert_str_eq(ea.pointer, eb.pointer);
	ck_assert_str_eq(ea.keyword, eb.keyword);
	ck_assert_str_eq(ea.message, eb.message);
}

/* Property names that stress the lookup: empty, every length class of
 * the name words (below 4, 4 to 7, 8 to 16, longer), bytes that JSON
 * escapes or pointers encode, UTF-8, and long names that share their
 * first and last eight bytes. */
static const char *const odd_names[] = {
        "",
        "a",
        "b",
        "ab",
        "ba",
        "abc",
        "~",
        "/",
        "a/b",
        "a~b",
        " ",
        "\"q\"",
        "\\",
        "\x01",
        "\x1f\x7f",
        "type",
        "step",
        "total",
        "eta_s",
        "current",
        "message",
        "progress",
        "progresS",
        "items_added",
        "items_failed",
        "sixteen_bytes_16",
        "seventeen_bytes17",
        "\xc3\xa9t\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80 emoji",
        "prefix__0001__suffix__",
        "prefix__0002__suffix__",
        "prefix__1000__suffix__",
        "prefix__0001__suffix_",
        "a longer property name of forty bytes...",
};
#define N_ODD (sizeof odd_names / sizeof odd_names[0])

/* The declared index of key (n bytes) by a plain linear search, or -1. */
static long ref_find(const char *const *names, size_t count, const char *key, size_t n)
{
	for(size_t i = 0; i < count; i++)
		if(strlen(names[i]) == n && memcmp(names[i], key, n) == 0)
			return (long)i;
	return -1;
}

/* "/" and the RFC 6901 token of key. */
static void ref_pointer(char *out, size_t size, const char *key, size_t n)
{
	size_t len = 0;

	out[len++] = '/';
	for(size_t i = 0; i < n && len + 3 < size; i++) {
		if(key[i] == '~') {
			out[len++] = '~';
			out[len++] = '0';
		} else if(key[i] == '/') {
			out[len++] = '~';
			out[len++] = '1';
		} else {
			out[len++] = key[i];
		}
	}
	out[len] = '\0';
}

/*
 * properties + additionalProperties:false over names: property i accepts
 * exactly the integer i. wrap adds "allOf":[true] to every subschema (no
 * leaf fast path); pad declares that many more properties no instance
 * uses (past 64 the presence mask gives way to per-property slots).
 */
static struct jw_schema *names_schema(const char *const *names, size_t count, bool wrap, size_t pad)
{
	struct buf b = {0};
	char err[512];
	struct jw_schema *s = NULL;

	buf_fmt(&b, "{\"additionalProperties\":false,\"properties\":{");
	for(size_t i = 0; i < count; i++) {
		buf_str(&b, names[i], strlen(names[i]));
		buf_fmt(&b, ":{\"type\":\"integer\",\"minimum\":%zu,\"maximum\":%zu%s},", i, i,
		        wrap ? ",\"allOf\":[true]" : "");
	}
	for(size_t i = 0; i < pad; i++)
		buf_fmt(&b, "\"zz-pad-%zu\":{\"type\":\"string\"},", i);
	b.p[b.len - 1] = '}';
	buf_add(&b, "}", 1);
	struct json_object *doc = parse(b.p);
	ck_assert_int_eq(jw_schema_compile(doc, SOURCE, &s, err, sizeof err), 0);
	json_object_put(doc);
	free(b.p);
	return s;
}

/* {key: value} against every variant, checked against the reference. */
static void check_key(struct jw_schema *const *variants, size_t n_variants,
        const char *const *names, size_t count, const char *key, size_t n, long value)
{
	struct buf b = {0};
	char ptr[256];
	long idx = ref_find(names, count, key, n);

	buf_add(&b, "{", 1);
	buf_str(&b, key, n);
	buf_fmt(&b, ":%ld}", value);
	ref_pointer(ptr, sizeof ptr, key, n);
	for(size_t v = 0; v < n_variants; v++) {
		struct jw_schema_error err;
		int r = check(variants[v], b.p, &err);
		if(idx >= 0 && idx == value) {
			ck_assert_msg(r == 1, "%s rejected: %s", b.p, err.message);
			continue;
		}
		ck_assert_msg(r == 0, "%s accepted", b.p);
		ck_assert_str_eq(err.pointer, ptr);
		if(idx < 0)
			ck_assert_str_eq(err.keyword, "additionalProperties");
		else
			ck_assert_str_eq(err.keyword, value < idx ? "minimum" : "maximum");
	}
	free(b.p);
}

START_TEST(property_lookup)
{
	struct jw_schema *v[4];
	char key[64];

	v[0] = names_schema(odd_names, N_ODD, false, 0);
	v[1] = names_schema(odd_names, N_ODD, true, 0);
	v[2] = names_schema(odd_names, N_ODD, false, 100);
	v[3] = names_schema(odd_names, N_ODD, true, 100);
	/* The names' words are the hash (no fallback): near misses land on
	 * the slot of the name they miss, so the comparison is what refuses
	 * them. */
	ck_assert(!v[0]->root->props_hash_full);
	for(size_t i = 0; i < N_ODD; i++) {
		const char *name = odd_names[i];
		size_t n = strlen(name);

		check_key(v, 4, odd_names, N_ODD, name, n, (long)i);
		check_key(v, 4, odd_names, N_ODD, name, n, (long)i + 1);
		/* Near misses: each ASCII byte changed, one byte shorter, one
		 * byte longer (which may land on another declared name). */
		for(size_t j = 0; j < n && n < sizeof key; j++) {
			if((unsigned char)name[j] >= 0x80)
				continue;
			memcpy(key, name, n);
			key[j] = (char)(name[j] ^ (name[j] == 1 ? 2 : 1));
			check_key(v, 4, odd_names, N_ODD, key, n, (long)i);
		}
		if(n > 0 && (unsigned char)name[n - 1] < 0x80)
			check_key(v, 4, odd_names, N_ODD, name, n - 1, (long)i);
		if(n + 1 < sizeof key) {
			memcpy(key, name, n);
			key[n] = 'x';
			check_key(v, 4, odd_names, N_ODD, key, n + 1, (long)i);
		}
	}
	/* A many-member object: every declared name plus strangers, the first
	 * failure in declared order wins whatever the member order. */
	struct buf b = {0};
	buf_add(&b, "{", 1);
	for(size_t i = N_ODD; i-- > 0;) {
		buf_str(&b, odd_names[i], strlen(odd_names[i]));
		buf_fmt(&b, ":%zu,", i == 7 || i == 20 ? i + 1 : i);
	}
	b.p[b.len - 1] = '}';
	for(size_t k = 0; k < 4; k++)
		expect_error(v[k], b.p, "/~1", "maximum", "/~1: maximum 7, got 8");
	free(b.p);
	for(size_t k = 0; k < 4; k++)
		jw_schema_free(v[k]);
}
END_TEST

START_TEST(property_lookup_collisions)
{
	/* 150 names of 22 bytes sharing their first and last eight bytes:
	 * the name words cannot tell them apart, so the table must fall back
	 * to hashing every byte. */
	char store[150][32];
	const char *names[150];
	for(size_t i = 0; i < 150; i++) {
		snprintf(store[i], sizeof store[i], "prefix__%04zu__suffix__", i * 7);
		names[i] = store[i];
	}
	struct jw_schema *v[2];
	v[0] = names_schema(names, 150, false, 0);
	v[1] = names_schema(names, 150, true, 0);
	ck_assert(v[0]->root->props_hash_full);
	for(size_t i = 0; i < 150; i++) {
		check_key(v, 2, names, 150, names[i], strlen(names[i]), (long)i);
		check_key(v, 2, names, 150, names[i], strlen(names[i]), (long)i + 1);
	}
	for(size_t i = 0; i < 1050; i++) {
		char key[32];
		snprintf(key, sizeof key, "prefix__%04zu__suffix__", i);
		check_key(v, 2, names, 150, key, strlen(key), (long)(i / 7));
	}
	jw_schema_free(v[0]);
	jw_schema_free(v[1]);

	/* Three such names probe at most two slots past their home: the
	 * words stay the hash and the bytes between them tell the names
	 * apart. */
	v[0] = names_schema(names, 3, false, 0);
	v[1] = names_schema(names, 3, true, 0);
	ck_assert(!v[0]->root->props_hash_full);
	for(size_t i = 0; i < 30; i++) {
		char key[32];
		snprintf(key, sizeof key, "prefix__%04zu__suffix__", i);
		check_key(v, 2, names, 3, key, strlen(key), (long)(i / 7));
	}
	jw_schema_free(v[0]);
	jw_schema_free(v[1]);
}
END_TEST

/* Bounds and values around every edge the number fast paths care about:
 * integers against doubles, 2^53 (the last exact double integer), int64
 * limits, integral doubles, negative zero. */
static const char *const num_bounds[] = {
        "0",
        "1",
        "-1",
        "100",
        "0.5",
        "-1.5",
        "2.0",
        "1e20",
        "9007199254740992",
        "9007199254740993",
        "-9007199254740993",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
        "1e300",
        "-0.0",
};
static const char *const num_values[] = {
        "0",
        "1",
        "-1",
        "2",
        "99",
        "100",
        "101",
        "0.5",
        "0.49999999999999994",
        "-1.5",
        "2.0",
        "1e20",
        "1e20.5",
        "9007199254740992",
        "9007199254740993",
        "9007199254740992.0",
        "9007199254740994.0",
        "-9007199254740993",
        "-9007199254740992.0",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "1e300",
        "-1e300",
        "-0.0",
        "-0",
        "3.000",
        "1E2",
        "\"7\"",
        "null",
        "true",
        "[]",
        "{}",
};

static void number_instance(char *out, size_t size, const char *v)
{
	/* "1e20.5" stands for a fractional value above 2^53 that is still
	 * written as a plain double. */
	if(strcmp(v, "1e20.5") == 0)
		v = "100000000000000000000.5";
	snprintf(out, size, "{\"n\":%s}", v);
}

START_TEST(number_fast_paths)
{
	static const char *const types[] = {"", "\"type\":\"integer\",", "\"type\":\"number\",",
	        "\"type\":[\"integer\",\"string\"],"};
	char text[512], inst[128];
	struct jw_jdoc d;

	jw_jdoc_init(&d);
	for(size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		for(size_t lo = 0; lo < sizeof num_bounds / sizeof num_bounds[0]; lo++) {
			for(size_t hi = 0; hi < sizeof num_bounds / sizeof num_bounds[0]; hi++) {
				snprintf(text, sizeof text,
				        "{\"properties\":{\"n\":{%s\"minimum\":%s,\"maximum\":%s}}}", types[t],
				        num_bounds[lo], num_bounds[hi]);
				struct jw_schema *a = compile_ok(text);
				snprintf(text, sizeof text,
				        "{\"properties\":{\"n\":{%s\"minimum\":%s,\"maximum\":%s,"
				        "\"allOf\":[true]}}}",
				        types[t], num_bounds[lo], num_bounds[hi]);
				struct jw_schema *b = compile_ok(text);
				/* The exclusive bounds take the general path's own
				 * comparison (never a leaf). */
				snprintf(text, sizeof text,
				        "{\"properties\":{\"n\":{%s\"exclusiveMinimum\":%s,"
				        "\"exclusiveMaximum\":%s}}}",
				        types[t], num_bounds[lo], num_bounds[hi]);
				struct jw_schema *e = compile_ok(text);
				const struct jw_schema_node *leaf = a->root->props[0].node;
				ck_assert(leaf->leaf);
				ck_assert(!b->root->props[0].node->leaf);
				for(size_t x = 0; x < sizeof num_values / sizeof num_values[0]; x++) {
					struct jw_json_error jerr;
					struct jw_value jv;
					number_instance(inst, sizeof inst, num_values[x]);
					expect_same(a, b, inst);
					/* The reference: the exact comparison. */
					ck_assert_int_eq(jw_jdoc_parse(&d, inst, strlen(inst), 8, &jerr), 0);
					jw_schema__value_node(&jv, d.root->u.kids);
					if(jv.type != JW_V_NUMBER)
						continue;
					int cmin = jw_schema__num_cmp(&jv.num, &leaf->minimum);
					int cmax = jw_schema__num_cmp(&jv.num, &leaf->maximum);
					bool in = cmin != -1 && cmin != 2 && cmax != 1 && cmax != 2;
					bool typed = !(leaf->has & JW_HAS_TYPE) || (leaf->types & JW_T_NUMBER) ||
					             jw_schema__num_is_integer(&jv.num);
					ck_assert_msg(jw_schema_validate_node(a, d.root, NULL) == (in && typed),
					        "%s against %s", inst, text);
					bool inside = cmin == 1 && cmax == -1;
					ck_assert_msg(jw_schema_validate_node(e, d.root, NULL) == (inside && typed),
					        "%s against %s", inst, text);
				}
				jw_schema_free(a);
				jw_schema_free(b);
				jw_schema_free(e);
			}
		}
	}
	jw_jdoc_free(&d);
}
END_TEST

/* Marks the strings of n that qualify as plain, as the parser may. */
static void mark_plain(struct jw_jnode *n)
{
	if(n->type == JW_J_STRING) {
		n->plain = 1;
		for(uint32_t i = 0; i < n->n; i++) {
			unsigned char ch = (unsigned char)n->u.s[i];
			if(ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
				n->plain = 0;
		}
	} else if(n->type == JW_J_ARRAY || n->type == JW_J_OBJECT) {
		for(uint32_t i = 0; i < n->n; i++)
			mark_plain(&n->u.kids[i]);
	}
}

/* Validates text as an arena tree with and without the plain marks. */
static void expect_plain_same(const struct jw_schema *s, const char *text)
{
	struct jw_jdoc d;
	struct jw_json_error jerr;
	struct jw_schema_error e0, e1;

	jw_jdoc_init(&d);
	ck_assert_int_eq(jw_jdoc_parse(&d, text, strlen(text), 8, &jerr), 0);
	int r0 = jw_schema_validate_node(s, d.root, &e0);
	mark_plain((struct jw_jnode *)(uintptr_t)d.root);
	int r1 = jw_schema_validate_node(s, d.root, &e1);
	ck_assert_int_eq(r0, r1);
	ck_assert_str_eq(e0.message, e1.message);
	jw_jdoc_free(&d);
}

START_TEST(string_fast_paths)
{
	static const char *const pieces[] = {"a", "Z", " ", "\\\"", "\\\\", "\\n", "\\u0001",
	        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\u00e9", "~"};
	static const size_t bounds[] = {0, 1, 2, 3, 4, 5, 7, 8, 12, 13, 16};
	char text[256], inst[512];

	for(size_t lo = 0; lo < sizeof bounds / sizeof bounds[0]; lo++) {
		for(size_t hi = lo; hi < sizeof bounds / sizeof bounds[0]; hi++) {
			snprintf(text, sizeof text,
			        "{\"properties\":{\"s\":{\"type\":\"string\",\"minLength\":%zu,"
			        "\"maxLength\":%zu}}}",
			        bounds[lo], bounds[hi]);
			struct jw_schema *a = compile_ok(text);
			snprintf(text, sizeof text,
			        "{\"properties\":{\"s\":{\"type\":\"string\",\"minLength\":%zu,"
			        "\"maxLength\":%zu,\"allOf\":[true]}}}",
			        bounds[lo], bounds[hi]);
			struct jw_schema *b = compile_ok(text);
			ck_assert(a->root->props[0].node->leaf);
			for(size_t k = 0; k < 60; k++) {
				size_t len = 0, count = rnd_below(18);
				len += (size_t)snprintf(inst, sizeof inst, "{\"s\":\"");
				for(size_t i = 0; i < count; i++)
					len += (size_t)snprintf(inst + len, sizeof inst - len, "%s",
					        pieces[rnd_below(sizeof pieces / sizeof pieces[0])]);
				snprintf(inst + len, sizeof inst - len, "\"}");
				expect_same(a, b, inst);
				expect_plain_same(a, inst);
				expect_plain_same(b, inst);
			}
			expect_same(a, b, "{\"s\":7}");
			expect_same(a, b, "{\"s\":null}");
			jw_schema_free(a);
			jw_schema_free(b);
		}
	}
}
END_TEST

/* One schema text with its subschemas made to take the general path:
 * "allOf":[true] before every "required" and "minProperties":0 before
 * every "not" (no-ops that end required_only and apply_only), and a
 * padding of declared properties that turns the presence mask off. */
static struct jw_schema *required_variant(const char *text, bool wrap, bool pad)
{
	struct buf b = {0};

	for(const char *p = text; *p != '\0'; p++) {
		if(wrap && strncmp(p, "\"required\":", 11) == 0)
			buf_add(&b, "\"allOf\":[true],", 15);
		if(wrap && strncmp(p, "\"not\":", 6) == 0)
			buf_add(&b, "\"minProperties\":0,", 18);
		if(pad && strncmp(p, "\"properties\":{", 14) == 0) {
			buf_add(&b, p, 14);
			p += 13;
			for(size_t i = 0; i < 70; i++)
				buf_fmt(&b, "\"pad%zu\":true,", i);
			continue;
		}
		buf_add(&b, p, 1);
	}
	struct jw_schema *s = compile_ok(b.p);
	free(b.p);
	return s;
}

START_TEST(required_fast_paths)
{
	/* The shape of schemas/progress.json, plus "required", an empty name
	 * and a dependency on an undeclared name. */
	static const char text[] =
	        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":true,"
	        "\"\":true,\"c\":true,\"dd\":{\"type\":\"string\"},\"e/f\":true},"
	        "\"required\":[\"a\",\"\"],"
	        "\"if\":{\"not\":{\"required\":[\"c\"]}},\"then\":{\"required\":[\"b\"]},"
	        "\"else\":{\"required\":[\"dd\",\"x\"]},"
	        "\"dependentRequired\":{\"c\":[\"dd\"],\"dd\":[\"c\",\"e/f\"],\"x\":[\"a\"],"
	        "\"b\":[\"x\"]}}";
	static const char *const keys[] = {"a", "b", "", "c", "dd", "e/f", "x", "y"};
	static const char *const values[] = {"1", "\"s\"", "2.5", "null"};
	struct jw_schema *v[4];

	v[0] = required_variant(text, false, false);
	v[1] = required_variant(text, true, false);
	v[2] = required_variant(text, false, true);
	v[3] = required_variant(text, true, true);
	ck_assert(v[0]->root->required_by_mask);
	ck_assert(!v[2]->root->required_by_mask);
	ck_assert(v[0]->root->then_schema->required_only);
	ck_assert(!v[1]->root->then_schema->required_only);
	ck_assert(v[0]->root->if_schema->apply_only);
	ck_assert(!v[1]->root->if_schema->apply_only);
	ck_assert(v[0]->root->if_schema->not_only);
	for(unsigned mask = 0; mask < 256; mask++) {
		for(size_t k = 0; k < 4; k++) {
			struct buf b = {0};
			buf_add(&b, "{", 1);
			for(size_t i = 0; i < 8; i++) {
				if(!(mask & (1u << i)))
					continue;
				buf_str(&b, keys[i], strlen(keys[i]));
				/* k == 0: every value of the right type, so the
				 * walk reaches the applicators. */
				if(k == 0)
					buf_fmt(&b, ":%s,", i == 0 ? "1" : i == 4 ? "\"s\"" : "null");
				else
					buf_fmt(&b, ":%s,", values[(i + k + mask) % 4]);
			}
			if(b.len > 1)
				b.len--;
			buf_add(&b, "}", 1);
			for(size_t i = 1; i < 4; i++)
				expect_same(v[0], v[i], b.p);
			free(b.p);
		}
	}
	expect_error(v[0], "{\"\":0}", "/a", "required", "/a: required property \"a\" missing");
	expect_error(v[0], "{\"a\":0}", "/", "required", "/: required property \"\" missing");
	for(size_t i = 0; i < 4; i++)
		jw_schema_free(v[i]);
}
END_TEST

/* Turns every node's one-pass and "if" by mask forms off, which leaves
 * the general path (validate_object, validate_apply) to decide. */
static void general_only(struct jw_schema *s)
{
	for(size_t i = 0; i < s->n_nodes; i++) {
		s->nodes[i]->obj_fast = false;
		s->nodes[i]->if_by_mask = false;
	}
}

/* Checks jw_schema_validate_members on the arena tree of instance: the
 * verdict and error of jw_schema_validate_node, and when scanned, the
 * first member of each declared root property (a linear search). */
static void expect_members(const struct jw_schema *s, const char *instance)
{
	struct jw_jdoc d;
	struct jw_json_error jerr;
	struct jw_schema_error e1, e2;
	struct jw_schema_members m;

	jw_jdoc_init(&d);
	ck_assert_int_eq(jw_jdoc_parse(&d, instance, strlen(instance), 32, &jerr), 0);
	int r1 = jw_schema_validate_node(s, d.root, &e1);
	int r2 = jw_schema_validate_members(s, d.root, &e2, &m);
	ck_assert_int_eq(r1, r2);
	ck_assert_str_eq(e1.pointer, e2.pointer);
	ck_assert_str_eq(e1.keyword, e2.keyword);
	ck_assert_str_eq(e1.message, e2.message);
	if(m.scanned) {
		const struct jw_schema_node *n = s->root;
		ck_assert(d.root->type == JW_J_OBJECT);
		ck_assert(n->n_props > 0 && n->n_props <= JW_SCHEMA_MEMBERS_MAX);
		for(size_t i = 0; i < n->n_props; i++) {
			const struct jw_jnode *first = NULL;
			for(uint32_t k = 0; k < d.root->n && first == NULL; k++) {
				const struct jw_jnode *kid = &d.root->u.kids[k];
				if(kid->keylen == n->props[i].len &&
				        memcmp(kid->key, n->props[i].name, kid->keylen) == 0)
					first = kid;
			}
			ck_assert_int_eq(jw_schema_root_property(s, n->props[i].name), (int)i);
			ck_assert_msg(((m.present >> i) & 1) == (first != NULL), "%s: bit %zu", instance, i);
			if(first != NULL)
				ck_assert_ptr_eq(m.member[i], first);
		}
	} else {
		/* Only a refusal before the scan, or a root without one. */
		ck_assert(r1 != 1 || d.root->type != JW_J_OBJECT || s->root->n_props == 0 ||
		          s->root->n_props > JW_SCHEMA_MEMBERS_MAX);
	}
	jw_jdoc_free(&d);
}

/* Random events against a progress-like schema: the one-pass object path
 * (obj_fast, if_by_mask) against the general path, on well-formed and
 * hostile members (duplicates, near-miss and long names, wrong types,
 * failing leaves and non-leaf subschemas, undeclared members), and then
 * on byte-corrupted texts that still parse. */
START_TEST(object_fast_paths)
{
	static const char text[] =
	        "{\"type\":\"object\",\"properties\":{"
	        "\"type\":{\"const\":\"progress\"},\"job_id\":{\"type\":\"string\",\"pattern\":\"^[a-"
	        "z0-9-]{1,8}$\"},"
	        "\"progress\":{\"type\":\"number\",\"minimum\":0,\"maximum\":100},"
	        "\"current\":{\"type\":\"number\",\"minimum\":0},\"total\":{\"type\":\"number\","
	        "\"minimum\":0},"
	        "\"message\":{\"type\":\"string\",\"maxLength\":12},\"step\":{\"type\":\"string\","
	        "\"minLength\":1},"
	        "\"items_added\":{\"type\":\"integer\",\"minimum\":0},"
	        "\"a_rather_long_property_name\":{\"type\":\"integer\"},\"\":true},"
	        "\"additionalProperties\":false,\"required\":[\"step\"],"
	        "\"if\":{\"not\":{\"required\":[\"current\"]}},\"then\":{\"required\":[\"progress\"]},"
	        "\"dependentRequired\":{\"current\":[\"total\"],\"total\":[\"current\"]}}";
	static const char *const keys[] = {
	        "type",
	        "job_id",
	        "progress",
	        "current",
	        "total",
	        "message",
	        "step",
	        "items_added",
	        "a_rather_long_property_name",
	        "",
	        "curren",
	        "currenT",
	        "current ",
	        "Step",
	        "stepp",
	        "a_rather_long_property_namE",
	        "a_rather_long_property_name_",
	        "x",
	};
	static const char *const values[] = {
	        "1",
	        "0",
	        "-1",
	        "100",
	        "101",
	        "2.5",
	        "-0.5",
	        "1e300",
	        "\"progress\"",
	        "\"job-1\"",
	        "\"Job_1!\"",
	        "\"\"",
	        "\"a\"",
	        "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"",
	        "\"fourteen chars\"",
	        "\"caf\\u00e9 \\\"q\\\"\"",
	        "null",
	        "true",
	        "[]",
	        "{}",
	        "{\"step\":\"x\"}",
	        "9223372036854775807",
	        "-9223372036854775808",
	        "3.0",
	};
	struct jw_schema *fast = compile_ok(text);
	struct jw_schema *slow = compile_ok(text);
	struct buf b = {0};

	general_only(slow);
	ck_assert(fast->root->obj_fast);
	ck_assert(fast->root->if_by_mask);
	for(size_t round = 0; round < 4000; round++) {
		size_t count = rnd_below(9);
		b.len = 0;
		buf_add(&b, "{", 1);
		uint32_t used = 0;
		for(size_t i = 0; i < count; i++) {
			/* Mostly declared names, so the walk gets far; no name twice
			 * (the parser refuses duplicate keys). */
			size_t k = rnd_below(4) ? rnd_below(10) : rnd_below(sizeof keys / sizeof keys[0]);
			size_t v = rnd_below(sizeof values / sizeof values[0]);
			if(used & (1u << k))
				continue;
			used |= 1u << k;
			buf_fmt(&b, "%s\"%s\":%s", b.len > 1 ? "," : "", keys[k], values[v]);
		}
		buf_add(&b, "}", 1);
		expect_same(fast, slow, b.p);
		expect_members(fast, b.p);
		expect_members(slow, b.p);
		/* One corrupted byte; texts that still parse must agree too. */
		if(b.len > 2) {
			size_t at = 1 + rnd_below(b.len - 2);
			char saved = b.p[at];
			struct json_object *o;
			struct jw_json_error jerr;
			b.p[at] = (char)(rnd_below(2) ? b.p[rnd_below(b.len)] : (char)(0x20 + rnd_below(95)));
			if(jw_json_parse(b.p, b.len, 32, &o, &jerr) == 0) {
				json_object_put(o);
				expect_same(fast, slow, b.p);
				expect_members(fast, b.p);
			}
			b.p[at] = saved;
		}
	}
	/* Each way out of the one pass explains as the general path does. */
	expect_error(fast, "{\"progress\":1}", "/step", "required",
	        "/step: required property \"step\" missing");
	expect_error(fast, "{\"step\":\"s\"}", "/progress", "required",
	        "/progress: required property \"progress\" missing");
	expect_error(fast, "{\"step\":\"s\",\"current\":1}", "/total", "dependentRequired",
	        "/total: dependentRequired property \"total\" missing (required when "
	        "\"current\" is present)");
	expect_error(fast, "{\"step\":\"s\",\"progress\":1,\"x\":1}", "/x", "additionalProperties",
	        "/x: additionalProperties: property \"x\" is not allowed");
	expect_error(fast, "{\"step\":\"s\",\"progress\":101}", "/progress", "maximum",
	        "/progress: maximum 100, got 101");
	expect_error(fast, "{\"step\":\"s\",\"progress\":1,\"job_id\":\"J\"}", "/job_id", "pattern",
	        "/job_id: pattern \"^[a-z0-9-]{1,8}$\", got \"J\"");
	free(b.p);
	jw_schema_free(fast);
	jw_schema_free(slow);
}
END_TEST

/* Nodes that must not take the one pass, and an else branch by mask. */
START_TEST(object_fast_eligibility)
{
	static const char *const no[] = {
	        "{\"properties\":{\"a\":true},\"minProperties\":1}",
	        "{\"properties\":{\"a\":true},\"patternProperties\":{\"^x\":true}}",
	        "{\"properties\":{\"a\":true},\"additionalProperties\":{\"type\":\"string\"}}",
	        "{\"properties\":{\"a\":true},\"required\":[\"b\"]}",
	        "{\"properties\":{\"a\":true},\"dependentRequired\":{\"a\":[\"b\"]}}",
	        "{\"properties\":{\"a\":true},\"allOf\":[true]}",
	        "{\"properties\":{\"a\":true},\"if\":{\"required\":[\"b\"]},\"then\":true}",
	        "{\"properties\":{\"a\":true},\"const\":{}}",
	        "{\"type\":\"array\",\"properties\":{\"a\":true}}",
	        "{\"required\":[\"a\"]}",
	};
	for(size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		struct jw_schema *s = compile_ok(no[i]);
		ck_assert_msg(!s->root->obj_fast, "%s", no[i]);
		jw_schema_free(s);
	}
	struct jw_schema *s = compile_ok(
	        "{\"properties\":{\"a\":{\"type\":\"integer\",\"maximum\":3},\"b\":true,\"c\":true},"
	        "\"if\":{\"required\":[\"a\"]},\"then\":{\"required\":[\"b\"]},"
	        "\"else\":{\"required\":[\"c\"]}}");
	struct jw_schema *g = compile_ok(
	        "{\"properties\":{\"a\":{\"type\":\"integer\",\"maximum\":3},\"b\":true,\"c\":true},"
	        "\"if\":{\"required\":[\"a\"]},\"then\":{\"required\":[\"b\"]},"
	        "\"else\":{\"required\":[\"c\"]}}");
	general_only(g);
	ck_assert(s->root->obj_fast && s->root->if_by_mask && !s->root->if_neg);
	static const char *const inst[] = {
	        "{}",
	        "{\"a\":1}",
	        "{\"a\":1,\"b\":0}",
	        "{\"c\":0}",
	        "{\"a\":4,\"b\":0}",
	        "{\"b\":0}",
	        "{\"a\":1,\"c\":2,\"b\":1}",
	        "{\"c\":1,\"a\":\"x\"}",
	        "[]",
	        "3",
	};
	for(size_t i = 0; i < sizeof inst / sizeof inst[0]; i++) {
		expect_same(s, g, inst[i]);
		expect_members(s, inst[i]);
	}
	expect_error(s, "{}", "/c", "required", "/c: required property \"c\" missing");
	expect_error(s, "{\"a\":1}", "/b", "required", "/b: required property \"b\" missing");
	jw_schema_free(s);
	jw_schema_free(g);
}
END_TEST

static Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
	        {"error_maximum", error_maximum},
	        {"object_fast_paths", object_fast_paths},
	        {"object_fast_eligibility", object_fast_eligibility},
	        {"error_type", error_type},
	        {"error_root", error_root},
	        {"error_required", error_required},
	        {"error_additional_properties", error_additional_properties},
	        {"error_enum_const", error_enum_const},
	        {"error_pattern", error_pattern},
	        {"error_nested_array", error_nested_array},
	        {"error_value_truncated", error_value_truncated},
	        {"unsupported_keyword", unsupported_keyword},
	        {"unsupported_format", unsupported_format},
	        {"malformed_values", malformed_values},
	        {"bad_ref", bad_ref},
	        {"ref_pointers", ref_pointers},
	        {"recursive_ref", recursive_ref},
	        {"code_point_lengths", code_point_lengths},
	        {"deep_equality", deep_equality},
	        {"numbers", numbers},
	        {"numbers_exact", numbers_exact},
	        {"empty_values", empty_values},
	        {"formats", formats},
	        {"unevaluated", unevaluated},
	        {"dynamic_ref", dynamic_ref},
	        {"alternatives", alternatives},
	        {"object_keywords", object_keywords},
	        {"boolean_schemas", boolean_schemas},
	        {"property_lookup", property_lookup},
	        {"property_lookup_collisions", property_lookup_collisions},
	        {"number_fast_paths", number_fast_paths},
	        {"string_fast_paths", string_fast_paths},
	        {"required_fast_paths", required_fast_paths},
	};

	for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return jw_test_run(schema_suite());
}
