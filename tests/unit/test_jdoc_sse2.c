/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * test_jdoc again, with the parser built without its AVX2 loop: long
 * plain runs are then skipped 16 bytes at a time with SSE2 all the way
 * (the path of processors without AVX2), and it must agree with
 * jw_json_parse just the same. On a processor without AVX2 this repeats
 * test_jdoc. This file compiles its own copy of core/json/parse.c, so the
 * library's copy is not linked in.
 */
#define JW_JSON_NO_AVX2 1
#include "../../core/json/parse.c"

#define JW_VALGRIND_STRIDE 101u
#include "test_jdoc.c"
