# Installs contd's units, tmpfiles entry, default config and seccomp profile. Runs at install
# time (cmake --install, CPack), because the unit's ExecStart and the config's profile path
# must be the paths of *this* install: the prefix is only known now (CPack installs with
# its own prefix, /usr, into a staging DESTDIR).
#
# Layout, relative to the prefix:      with prefix /usr (the .deb):
#   bin/contd, bin/contctl             /usr/bin/...
#   libexec/contd/contd-shim-logs      /usr/libexec/contd/contd-shim-logs
#   lib/systemd/system/contd.{service,socket}
#   lib/tmpfiles.d/contd.conf
#   <config dir>/contd.json, seccomp.json  /etc/contd/ (the prefix's etc/contd otherwise,
#                                          as GNUInstallDirs' SYSCONFDIR)
#   share/doc/contd/                   /usr/share/doc/contd/ (the unit's Documentation=)
# contd.json names the profile and the log shim by these installed paths.
# Expects CONTD_ETC_SOURCE_DIR and CONTD_ETC_BINARY_DIR (set by etc/CMakeLists.txt).

set(prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" prefix "${prefix}")
if(prefix STREQUAL "" OR prefix STREQUAL "/usr")
  set(CONTD_CONFIG_DIR "/etc/contd")
else()
  set(CONTD_CONFIG_DIR "${prefix}/etc/contd")
endif()
set(CONTD_BINDIR "${prefix}/bin")
set(CONTD_LOG_SHIM "${prefix}/libexec/contd/contd-shim-logs")
set(CONTD_DOC_DIR "${prefix}/share/doc/contd")

set(staging "${CONTD_ETC_BINARY_DIR}/install-staging")
file(MAKE_DIRECTORY "${staging}")
configure_file("${CONTD_ETC_SOURCE_DIR}/contd.service.in" "${staging}/contd.service" @ONLY)
configure_file("${CONTD_ETC_SOURCE_DIR}/contd.json.in" "${staging}/contd.json" @ONLY)
configure_file("${CONTD_ETC_SOURCE_DIR}/contd.tmpfiles.conf" "${staging}/contd.conf" COPYONLY)

file(INSTALL "${staging}/contd.service" "${CONTD_ETC_SOURCE_DIR}/contd.socket"
     DESTINATION "${prefix}/lib/systemd/system" FILE_PERMISSIONS OWNER_READ OWNER_WRITE
     GROUP_READ WORLD_READ)
file(INSTALL "${staging}/contd.conf" DESTINATION "${prefix}/lib/tmpfiles.d"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${staging}/contd.json" "${CONTD_ETC_SOURCE_DIR}/seccomp.json"
     DESTINATION "${CONTD_CONFIG_DIR}" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
     WORLD_READ)
