# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# The Debian package: `cpack -G DEB` in the build folder writes
# jobwire_<version>_<arch>.deb there. It holds what `cmake --install`
# installs (install.cmake) under /usr, with the mosquitto snippet in
# /etc/mosquitto/conf.d as a conffile, and the maintainer scripts beside
# this file (postinst, postrm). Depends: mosquitto (>= 2.0.11) and the
# shared libraries the plugin and the CLI link, as dpkg-shlibdeps finds
# them (Debian's dpkg-dev).
set(JW_PACKAGE_MAINTAINER "jobwire maintainers <maintainers@jobwire.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_PACKAGE_NAME jobwire)
set(CPACK_PACKAGE_VENDOR "the jobwire authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${JW_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "typed job events for Mosquitto: validation, job state, dashboard")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
# Install with DESTDIR and the real prefix, so install_time.cmake sees
# /usr and puts the snippet in /etc and the drop-in in /lib/systemd.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The first line of Description is the summary above; then this text.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "A Mosquitto plugin that validates job events (jobs/{session}/{job}/{event})
against JSON Schema files, refuses invalid ones with a reason, keeps every
job's state (retained), fails silent jobs, journals finished jobs to
PostgreSQL and authenticates clients with JWTs; the jobwire command for
workers and operators (including a Prometheus exporter and an AsyncAPI
writer); and a browser dashboard served by the broker's WebSocket listener.

Installs /etc/mosquitto/conf.d/jobwire.conf; restart mosquitto to load it.")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "mosquitto (>= 2.0.11)")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
configure_file(${CMAKE_CURRENT_LIST_DIR}/conffiles ${PROJECT_BINARY_DIR}/debian-control/conffiles COPYONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/postinst ${PROJECT_BINARY_DIR}/debian-control/postinst COPYONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/postrm ${PROJECT_BINARY_DIR}/debian-control/postrm COPYONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/debian-control/conffiles
    ${PROJECT_BINARY_DIR}/debian-control/postinst
    ${PROJECT_BINARY_DIR}/debian-control/postrm)
set(CPACK_GENERATOR DEB)
include(CPack)
