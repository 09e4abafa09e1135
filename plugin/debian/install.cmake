# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# What `cmake --install` (and so the Debian package) puts where, beyond the
# CLI's own rules in bridge-cli/: the plugin, the journal's SQL, the AsyncAPI
# document and the dashboard (both made at build time), the licence, and,
# at install time (install_time.cmake), the mosquitto snippet, the systemd
# drop-in and the data folder, whose paths follow the install prefix:
# prefix /usr puts them in /etc, /lib/systemd/system and /var (the Debian
# package, or `--prefix /usr`); any other prefix under PREFIX/etc,
# PREFIX/lib/systemd/system and PREFIX/var. docs/operations.md lists it all.
include(GNUInstallDirs)

# The plugin is a module, not a library to link: its own folder keeps it
# out of the linker's search path (docs/operations.md, "Installing").
install(TARGETS jobwire_plugin LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/jobwire)
install(FILES ${PROJECT_SOURCE_DIR}/plugin/sql/001_finished_jobs.sql
              ${PROJECT_SOURCE_DIR}/plugin/sql/002_attempts.sql
              ${PROJECT_SOURCE_DIR}/plugin/sql/reviews.sql
        DESTINATION ${CMAKE_INSTALL_DATADIR}/jobwire/sql)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/LICENSE-EPL-2.0
              ${CMAKE_CURRENT_LIST_DIR}/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The AsyncAPI document of the shipped schemas, beside them.
file(GLOB JW_SCHEMA_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/schemas/*.json
     ${PROJECT_SOURCE_DIR}/schemas/notices/*.json)
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/asyncapi.json
  COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
          $<TARGET_FILE:jobwire> asyncapi --schemas ${PROJECT_SOURCE_DIR}/schemas
          -o ${PROJECT_BINARY_DIR}/asyncapi.json
  DEPENDS jobwire ${JW_SCHEMA_FILES}
  COMMENT "Writing the AsyncAPI document of schemas/")
add_custom_target(jw_asyncapi ALL DEPENDS ${PROJECT_BINARY_DIR}/asyncapi.json)
install(FILES ${PROJECT_BINARY_DIR}/asyncapi.json DESTINATION ${CMAKE_INSTALL_DATADIR}/jobwire)

# The dashboard, staged by examples/dashboard/stage.sh (MQTT.js from the
# pinned npm package, so the build needs npm once).
option(JW_DASHBOARD "Stage the browser dashboard at build time (needs npm) and install it" ON)
if(JW_DASHBOARD)
  find_program(JW_NPM npm)
  if(NOT JW_NPM)
    message(FATAL_ERROR "The dashboard needs npm (Node 20) to fetch MQTT.js: install it, or configure with -DJW_DASHBOARD=OFF")
  endif()
  set(jw_dash ${PROJECT_SOURCE_DIR}/examples/dashboard)
  add_custom_command(
    OUTPUT ${PROJECT_BINARY_DIR}/dashboard/mqtt.min.js
    COMMAND bash ${jw_dash}/stage.sh ${PROJECT_BINARY_DIR}/dashboard
    DEPENDS ${jw_dash}/stage.sh ${jw_dash}/index.html ${jw_dash}/app.js ${jw_dash}/stations.js ${jw_dash}/style.css
            ${jw_dash}/package-lock.json
    COMMENT "Staging the dashboard")
  add_custom_target(jw_dashboard ALL DEPENDS ${PROJECT_BINARY_DIR}/dashboard/mqtt.min.js)
  install(DIRECTORY ${PROJECT_BINARY_DIR}/dashboard/ DESTINATION ${CMAKE_INSTALL_DATADIR}/jobwire/dashboard
          PATTERN "config.json" EXCLUDE)
endif()

# Where the mosquitto snippet goes; empty: decided at install time from the
# prefix (/etc/mosquitto/conf.d for /usr).
set(JW_MOSQUITTO_CONFDIR "" CACHE PATH "folder for the mosquitto snippet jobwire.conf (empty: SYSCONFDIR/mosquitto/conf.d of the install prefix)")
install(CODE "
  set(JW_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(JW_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
  set(JW_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(JW_DATAROOT \"${CMAKE_INSTALL_DATADIR}\")
  set(JW_CONFDIR \"${JW_MOSQUITTO_CONFDIR}\")
  include(\"${CMAKE_CURRENT_LIST_DIR}/install_time.cmake\")
")
