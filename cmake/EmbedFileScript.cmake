# Script mode: -DINPUT=file -DOUTPUT=file.cpp -DSYMBOL=name (a qualified name is allowed).
if(NOT EXISTS "${INPUT}")
  message(FATAL_ERROR "cpb_embed_file: ${INPUT} does not exist")
endif()
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(REGEX REPLACE "::([^:]*)$" "" ns "${SYMBOL}")
string(REGEX REPLACE "^.*::" "" name "${SYMBOL}")
if(ns STREQUAL SYMBOL)
  set(ns "")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT}; do not edit.\n#include <string_view>\n"
  "namespace ${ns} {\nnamespace {\nconstexpr char kData[] = {${bytes}};\n}  // namespace\n"
  "extern const std::string_view ${name};\nconst std::string_view ${name}{kData, ${size}};\n}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
