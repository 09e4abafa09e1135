/* Proves that the schema compiler refuses what it cannot honour with precise messages, and that
 * the validator reports the first failure with the exact pointer, keyword and message text. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "schema.h"

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
	if (message != NULL)
		ck_assert_str_eq(err.message, message);
}

START_TEST(error_maximum)
{
	struct jw_schema *s = compile_ok(
	    "{\"type\":\"object\",\"properties\":{\"progress\":"
	    "{\"type\":\"number\",\"minimum\":0,\"maximum\":100}}}");
	expect_valid(s, "{\"progress\":100}");
	expect_valid(s, "{\"progress\":99.5}");
	expect_error(s, "{\"progress\":140}", "/progress", "maximum", "/progress: maximum 100, got 140");
	expect_error(s, "{\"progress\":100.5}", "/progress", "maximum",
	             "/progress: maximum 100, got 100.5");
	expect_error(s, "{\"progress\":-0.25}", "/progress", "minimum",
	             "/progress: minimum 0, got -0.25");
	jw_schema_free(s);
}
END_TEST

START_TEST(error_type)
{
	struct jw_schema *s = compile_ok(
	    "{\"properties\":{\"total\":{\"type\":\"integer\"},"
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
	struct jw_schema *s = compile_ok(
	    "{\"required\":[\"error\"],\"properties\":{\"details\":"
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
	struct jw_schema *s = compile_ok(
	    "{\"properties\":{\"status\":{\"enum\":[\"running\",\"waiting\"]},"
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
	for (size_t i = 1; i < 500; i++)
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
	compile_fails("{\"properties\":{\"a\":{\"unevaluatedProperties\":false}}}",
	              "schemas/x.json: unsupported keyword \"unevaluatedProperties\" at /properties/a");
	compile_fails("{\"tyep\":\"string\"}", "schemas/x.json: unsupported keyword \"tyep\" at /");
	compile_fails("{\"$defs\":{\"a\":{\"$anchor\":\"x\"}}}",
	              "schemas/x.json: unsupported keyword \"$anchor\" at /$defs/a");
	compile_fails("{\"items\":{\"$dynamicRef\":\"#x\"}}",
	              "schemas/x.json: unsupported keyword \"$dynamicRef\" at /items");
	compile_fails("{\"properties\":{\"a\":{\"$id\":\"a.json\"}}}",
	              "schemas/x.json: unsupported keyword \"$id\" (accepted only at the document "
	              "root) at /properties/a");
	compile_fails("{\"allOf\":[true,{\"contentMediaType\":\"text/plain\"}]}",
	              "schemas/x.json: unsupported keyword \"contentMediaType\" at /allOf/1");

	/* Annotations and a root $id are accepted. */
	struct jw_schema *s = compile_ok(
	    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"urn:x\","
	    "\"$comment\":\"c\",\"title\":\"t\",\"description\":\"d\",\"default\":1,"
	    "\"examples\":[1],\"deprecated\":false,\"readOnly\":false,\"writeOnly\":false}");
	expect_valid(s, "1");
	jw_schema_free(s);
}
END_TEST

START_TEST(unsupported_format)
{
	compile_fails("{\"properties\":{\"e\":{\"format\":\"email\"}}}",
	              "schemas/x.json: unsupported format \"email\" (supported: \"date-time\", "
	              "\"uuid\") at /properties/e");
}
END_TEST

START_TEST(malformed_values)
{
	compile_fails("{\"minimum\":\"x\"}", "schemas/x.json: \"minimum\" must be a number at /");
	compile_fails("{\"required\":5}",
	              "schemas/x.json: \"required\" must be an array of unique strings at /");
	compile_fails("{\"required\":[\"a\",\"a\"]}",
	              "schemas/x.json: \"required\" lists \"a\" twice at /");
	compile_fails("{\"multipleOf\":0}", "schemas/x.json: \"multipleOf\" must be greater than 0 at /");
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
	              "schemas/x.json: $ref \"other.json#/a\" is not a local reference (only \"#...\" "
	              "refs are supported) at /properties/a");
	compile_fails("{\"$ref\":\"#node\"}",
	              "schemas/x.json: $ref \"#node\" names an anchor; only JSON pointer refs are "
	              "supported at /");
	compile_fails("{\"$ref\":\"#/$defs/a%2\",\"$defs\":{\"a\":true}}",
	              "schemas/x.json: $ref \"#/$defs/a%2\" has a malformed %-escape at /");
	compile_fails("{\"$defs\":{\"a\":{\"enum\":[1]}},\"$ref\":\"#/$defs/a/enum\"}",
	              "schemas/x.json: $ref \"#/$defs/a/enum\" does not point to a schema at /");
	/* A target outside any schema position is compiled where it is, and
	 * must be a valid schema. */
	compile_fails("{\"$defs\":{\"a\":{\"enum\":[{\"bogus\":1}]}},\"$ref\":\"#/$defs/a/enum/0\"}",
	              "schemas/x.json: unsupported keyword \"bogus\" at /$defs/a/enum/0");
	struct jw_schema *s = compile_ok(
	    "{\"examples\":[{\"type\":\"integer\"}],"
	    "\"properties\":{\"a\":{\"$ref\":\"#/examples/0\"}}}");
	expect_valid(s, "{\"a\":1}");
	expect_error(s, "{\"a\":\"x\"}", "/a", "type", "/a: type \"integer\", got \"x\"");
	jw_schema_free(s);
}
END_TEST

START_TEST(ref_pointers)
{
	struct jw_schema *s = compile_ok(
	    "{\"$defs\":{\"a%b\":{\"type\":\"integer\"},\"t~\":{\"maximum\":5}},"
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
	struct jw_schema *s = compile_ok(
	    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
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
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "{\"k\":%d},", i);
	snprintf(buf + len, sizeof buf - len, "{\"k\":42.0},{\"k\":7}]");
	s = compile_ok("{\"uniqueItems\":true}");
	expect_error(s, buf, "/100", "uniqueItems", "/100: uniqueItems true (same as item 42), got {\"k\":42.0}");
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

START_TEST(formats)
{
	struct jw_schema *s = compile_ok(
	    "{\"properties\":{\"ts\":{\"format\":\"date-time\"},\"id\":{\"format\":\"uuid\"}}}");
	expect_valid(s, "{\"ts\":\"2024-02-29T23:59:60Z\",\"id\":\"2EB8AA08-aa98-11ea-b4aa-73b441d16380\"}");
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
}
END_TEST

START_TEST(alternatives)
{
	struct jw_schema *s = compile_ok(
	    "{\"properties\":{\"p\":{\"anyOf\":[{\"type\":\"null\"},"
	    "{\"type\":\"number\",\"maximum\":100}]},"
	    "\"q\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]},"
	    "\"r\":{\"oneOf\":[{\"minimum\":0},{\"maximum\":10}]}}}");
	expect_valid(s, "{\"p\":null,\"q\":3,\"r\":20}");
	/* One alternative got further than the others: its error is reported. */
	expect_error(s, "{\"p\":140}", "/p", "maximum", "/p: maximum 100, got 140");
	expect_error(s, "{\"q\":true}", "/q", "anyOf", "/q: anyOf: no alternative matched, got true");
	expect_error(s, "{\"r\":5}", "/r", "oneOf",
	             "/r: oneOf: alternatives 0 and 1 both matched, got 5");
	jw_schema_free(s);

	s = compile_ok("{\"not\":{\"type\":\"string\"},"
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

static Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{"error_maximum", error_maximum},
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
		{"formats", formats},
		{"alternatives", alternatives},
		{"object_keywords", object_keywords},
		{"boolean_schemas", boolean_schemas},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(schema_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
