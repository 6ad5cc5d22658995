# Sanitizer and fuzzing flags for contd_cxx_settings (see the options in the top-level
# CMakeLists.txt and docs/testing.md).

if(CONTD_SANITIZE MATCHES "^(ON|on|On|TRUE|true|YES|yes|1)$")
  set(CONTD_SANITIZE "address,undefined")
elseif(CONTD_SANITIZE MATCHES "^(OFF|off|Off|FALSE|false|NO|no|0)$")
  set(CONTD_SANITIZE "")
endif()

if(CONTD_SANITIZE)
  message(STATUS "contd: building with -fsanitize=${CONTD_SANITIZE}")
  target_compile_options(contd_cxx_settings INTERFACE
    -fsanitize=${CONTD_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(contd_cxx_settings INTERFACE -fsanitize=${CONTD_SANITIZE})
endif()

if(CONTD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CONTD_FUZZ needs clang (libFuzzer): configure with "
                        "-DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Coverage instrumentation for libFuzzer in every library; only the harnesses link
  # libFuzzer itself (-fsanitize=fuzzer, tests/fuzz/CMakeLists.txt).
  target_compile_options(contd_cxx_settings INTERFACE -fsanitize=fuzzer-no-link)
endif()
