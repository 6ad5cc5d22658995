# Copies the .proto file IN to OUT with every `import weak` turned into a plain `import`.
# Run by api/containerd/CMakeLists.txt at build time:
#   cmake -DIN=<source.proto> -DOUT=<build-tree.proto> -P rewrite_proto.cmake
# protoc's C++ generator aborts on weak imports; a strong import changes nothing on the wire.
# It also does not know C++20's keywords: a field named `requires` (introspection.proto's
# Plugin.requires) becomes a C++ method `requires()` that C++20 cannot parse. Such fields are
# renamed with a trailing underscore; the wire format only knows field numbers, so nothing
# changes for containerd.

if(NOT DEFINED IN OR NOT DEFINED OUT)
  message(FATAL_ERROR "usage: cmake -DIN=<file.proto> -DOUT=<file.proto> -P rewrite_proto.cmake")
endif()

file(READ "${IN}" content)
string(REGEX REPLACE "(^|\n)([ \t]*)import[ \t]+weak[ \t]+" "\\1\\2import " content "${content}")
set(cxx20_keywords "requires|concept|co_await|co_return|co_yield|char8_t|consteval|constinit")
string(REGEX REPLACE
  "(\n[ \t]*(repeated[ \t]+)?[A-Za-z0-9_.]+[ \t]+)(${cxx20_keywords})([ \t]*=)"
  "\\1\\3_\\4" content "${content}")
# Several files import gogo.proto without using any gogoproto option, and protoc warns about
# each on every clean build; such an import is dropped, which keeps the build output quiet.
if(NOT content MATCHES "\\(gogoproto\\.")
  string(REGEX REPLACE "\n[ \t]*import[ \t]+\"gogoproto/gogo.proto\";" "\n" content "${content}")
endif()
file(WRITE "${OUT}" "${content}")
