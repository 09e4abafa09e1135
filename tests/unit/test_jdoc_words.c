/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * test_jdoc again, with the parser built without SSE2: the string scanner
 * then reads 8-byte words (the path every non-x86 build takes), and it
 * must agree with jw_json_parse just the same. This file compiles its own
 * copy of core/json/parse.c, so the library's copy is not linked in.
 */
#define JW_JSON_NO_SIMD 1
#include "../../core/json/parse.c"

#define JW_VALGRIND_STRIDE 101u
#include "test_jdoc.c"
