# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Runs inside `cmake --install` (and CPack): writes the mosquitto snippet
# and the systemd drop-in with the paths of this install, and creates the
# data folder. Paths come from CMAKE_INSTALL_PREFIX as it is now, not as it
# was at configure time, because a package installs under /usr whatever
# the build was configured with. DESTDIR is honoured by file(INSTALL).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(jw_etc "/etc")
  set(jw_var "/var")
  set(jw_units "/lib/systemd/system")
else()
  set(jw_etc "${CMAKE_INSTALL_PREFIX}/etc")
  set(jw_var "${CMAKE_INSTALL_PREFIX}/var")
  set(jw_units "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
if(NOT JW_CONFDIR)
  set(JW_CONFDIR "${jw_etc}/mosquitto/conf.d")
endif()
set(JW_CONF_PATH "${JW_CONFDIR}/jobwire.conf")
set(JW_PLUGIN_PATH "${CMAKE_INSTALL_PREFIX}/${JW_LIBDIR}/jobwire/jobwire.so")
set(JW_SCHEMAS_DIR "${CMAKE_INSTALL_PREFIX}/${JW_DATAROOT}/jobwire/schemas")
set(JW_DASHBOARD_DIR "${CMAKE_INSTALL_PREFIX}/${JW_DATAROOT}/jobwire/dashboard")
set(JW_DATA_DIR "${jw_var}/lib/jobwire")

set(jw_gen "${JW_BINARY_DIR}/install-generated")
configure_file("${JW_SOURCE_DIR}/plugin/debian/jobwire.conf.in" "${jw_gen}/jobwire.conf" @ONLY)
configure_file("${JW_SOURCE_DIR}/plugin/debian/mosquitto-service.conf.in" "${jw_gen}/mosquitto.service.d/jobwire.conf" @ONLY)
file(INSTALL DESTINATION "${JW_CONFDIR}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${jw_gen}/jobwire.conf")
file(INSTALL DESTINATION "${jw_units}/mosquitto.service.d" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${jw_gen}/mosquitto.service.d/jobwire.conf")

# The data folder must be the broker user's before the snippet is used.
# A package's postinst does it on the target machine; a direct install
# does it here when it can.
if("$ENV{DESTDIR}" STREQUAL "")
  file(MAKE_DIRECTORY "${JW_DATA_DIR}")
  execute_process(COMMAND id -u OUTPUT_VARIABLE jw_uid OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND getent passwd mosquitto RESULT_VARIABLE jw_no_user OUTPUT_QUIET)
  if(jw_uid STREQUAL "0" AND jw_no_user EQUAL 0)
    execute_process(COMMAND chown mosquitto:mosquitto "${JW_DATA_DIR}")
    execute_process(COMMAND chmod 0750 "${JW_DATA_DIR}")
  else()
    message(STATUS "Make ${JW_DATA_DIR} writable by the broker's user: chown mosquitto: ${JW_DATA_DIR}")
  endif()
endif()
