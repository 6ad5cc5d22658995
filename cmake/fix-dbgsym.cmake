# Runs after CPack has made the packages (CPACK_POST_BUILD_SCRIPTS) and mends the
# contd-dbgsym .ddeb that CMake 3.25's CPackDeb makes (CPACK_DEBIAN_DEBUGINFO_PACKAGE):
# - its md5sums lists the files by their absolute paths in CPack's staging folder, so
#   `dpkg --verify` and debsums cannot check them and lintian reports
#   md5sums-lists-nonexistent-file: the sums are made again with paths relative to /;
# - the .debug files are executable: they are data, 0644 as dh_strip makes them;
# - it has no /usr/share/doc/contd-dbgsym: as in Debian's own dbgsym packages, it becomes a
#   symlink to contd's (the package depends on contd of the same version), which holds the
#   copyright and changelog.
# Then the package is built again with dpkg-deb, in the same compression as CPack's.
foreach(package IN LISTS CPACK_PACKAGE_FILES)
  if(NOT package MATCHES "\\.ddeb$")
    continue()
  endif()
  set(tree "${package}.tree")
  file(REMOVE_RECURSE "${tree}")
  execute_process(COMMAND dpkg-deb --raw-extract "${package}" "${tree}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "dpkg-deb --raw-extract ${package} failed")
  endif()
  file(GLOB_RECURSE debug_files "${tree}/usr/lib/debug/*")
  foreach(debug_file IN LISTS debug_files)
    file(CHMOD "${debug_file}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endforeach()
  file(MAKE_DIRECTORY "${tree}/usr/share/doc")
  file(CREATE_LINK contd "${tree}/usr/share/doc/contd-dbgsym" SYMBOLIC)
  execute_process(
    COMMAND sh -c "cd \"$1\" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum"
            sh "${tree}"
    OUTPUT_FILE "${tree}/DEBIAN/md5sums"
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "md5sums of ${package} failed")
  endif()
  execute_process(COMMAND dpkg-deb --root-owner-group -Zgzip --build "${tree}" "${package}"
                  OUTPUT_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "dpkg-deb --build ${package} failed")
  endif()
  file(REMOVE_RECURSE "${tree}")
endforeach()
