# cpb_embed_file(OUT_CPP SYMBOL INPUT): writes OUT_CPP that defines
# `extern const std::string_view SYMBOL` holding the bytes of INPUT. Runs at build time.
function(cpb_embed_file out_cpp symbol input)
  add_custom_command(
    OUTPUT "${out_cpp}"
    COMMAND "${CMAKE_COMMAND}" -DINPUT=${input} -DOUTPUT=${out_cpp} -DSYMBOL=${symbol}
            -P "${PROJECT_SOURCE_DIR}/cmake/EmbedFileScript.cmake"
    DEPENDS "${input}" "${PROJECT_SOURCE_DIR}/cmake/EmbedFileScript.cmake"
    COMMENT "Embedding ${input}"
    VERBATIM)
endfunction()
