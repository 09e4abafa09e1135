# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Turns the versioned table definition into a C string, so the plugin runs
# exactly the statements a DBA applies by hand.
#   cmake -DIN=plugin/sql/001_finished_jobs.sql -DOUT=journal_sql.h -P embed.cmake
# -DNAME=JW_JOURNAL_SQL_002 names the string (default JW_JOURNAL_SQL).
if(NOT NAME)
  set(NAME JW_JOURNAL_SQL)
endif()
get_filename_component(src "${IN}" NAME)
file(READ "${IN}" sql)
string(REPLACE "\\" "\\\\" sql "${sql}")
string(REPLACE "\"" "\\\"" sql "${sql}")
string(REPLACE "\n" "\\n\"\n\"" sql "${sql}")
file(WRITE "${OUT}.tmp" "/* Generated from plugin/sql/${src}; do not edit. */\nstatic const char ${NAME}[] =\n\"${sql}\";\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
