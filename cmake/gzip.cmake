# contd_gzip(SOURCE OUTPUT): OUTPUT is SOURCE compressed as Debian wants its man pages and
# changelogs: gzip -9 (lintian checks the maximum compression) and -n (no name or time
# stamp in the header, so that the package is reproducible).
function(contd_gzip source output)
  add_custom_command(OUTPUT "${output}"
    COMMAND sh -c "gzip -9nc \"$1\" > \"$2\"" sh "${source}" "${output}"
    DEPENDS "${source}"
    COMMENT "gzip -9n ${output}"
    VERBATIM)
endfunction()
