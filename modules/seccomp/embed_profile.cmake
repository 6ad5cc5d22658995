# Writes OUTPUT, a C++ file defining contd::seccomp::detail::kBuiltinProfileText as the
# bytes of INPUT (the JSON profile), as a raw string literal. Run by the build.
file(READ "${INPUT}" text)
string(FIND "${text}" ")json\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )json\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from etc/seccomp.json by modules/seccomp/embed_profile.cmake. Do not edit.\n"
  "#include \"builtin_profile_text.h\"\n\n"
  "namespace contd::seccomp::detail {\n"
  "extern const char kBuiltinProfileText[] = R\"json(${text})json\";\n"
  "}  // namespace contd::seccomp::detail\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
