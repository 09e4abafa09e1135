# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Turns the versioned table definition into a C string, so the plugin runs
# exactly the statements a DBA applies by hand.
#   cmake -DIN=plugin/sql/001_finished_jobs.sql -DOUT=journal_sql.h -P embed.cmake
file(READ "${IN}" sql)
string(REPLACE "\\" "\\\\" sql "${sql}")
string(REPLACE "\"" "\\\"" sql "${sql}")
string(REPLACE "\n" "\\n\"\n\"" sql "${sql}")
file(WRITE "${OUT}.tmp" "/* Generated from plugin/sql/001_finished_jobs.sql; do not edit. */\nstatic const char JW_JOURNAL_SQL[] =\n\"${sql}\";\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
