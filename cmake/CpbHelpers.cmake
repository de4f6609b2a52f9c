# cpb_add_family(<name> [LIBS <libs>...])
#   Adds the family folder patterns/<name>: its *.register.cpp files are compiled once, in the
#   object library cpb_register_<name>, whose objects go into the built-in library and into each
#   test binary of the family (which reach the registered checks through the registry, see
#   harness/testing.hpp, instead of instantiating them again); with tests on, *.test.cpp becomes
#   cpb_test_<name> (ctest label `unit`),
#   *.check.cpp becomes cpb_check_<name> (label `stress`), *.model.cpp becomes cpb_model_<name>
#   (label `model`, linked with the model checker; not built under TSan, see harness/check), and a
#   `bench-smoke` test runs every scenario of the family for a few milliseconds, so sanitizers
#   cover benchmark code too (a folder that registers nothing yet gets no smoke test). Each
#   *.e2e.sh script becomes the test e2e.<script name> (label `e2e`), called with the cpbench
#   binary and a work directory of its own, which it empties first: `script CPBENCH WORK_DIR`;
#   a *.model.e2e.sh script drives the model checker, so it is not run under TSan.
function(cpb_add_family name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  set(dir "${CMAKE_CURRENT_SOURCE_DIR}/${name}")
  file(GLOB registers CONFIGURE_DEPENDS "${dir}/*.register.cpp")
  set(objects)
  if(registers)
    set(objects cpb_register_${name})
    add_library(${objects} OBJECT ${registers})
    target_link_libraries(${objects} PUBLIC cpb_harness cpb_stress cpb_check ${ARG_LIBS})
    target_sources(cpb_builtin PRIVATE $<TARGET_OBJECTS:${objects}>)
  endif()
  target_link_libraries(cpb_builtin PUBLIC ${ARG_LIBS})
  if(NOT CPB_BUILD_TESTS)
    return()
  endif()
  foreach(kind test check model)
    file(GLOB srcs CONFIGURE_DEPENDS "${dir}/*.${kind}.cpp")
    if(NOT srcs)
      continue()
    endif()
    if(kind STREQUAL "test")
      set(label unit)
    elseif(kind STREQUAL "check")
      set(label stress)
    else()
      set(label model)
      # GCC 12's TSan runtime crashes on the checker's fiber switches (harness/check/README.md),
      # so the model tests are neither run nor built there.
      if(CPB_SANITIZERS MATCHES "thread")
        continue()
      endif()
    endif()
    set(exe cpb_${kind}_${name})
    add_executable(${exe} ${srcs})
    # The family's registrations, then the rest of the built-in library for what they call
    # (only the archive members they need are linked).
    target_link_libraries(${exe} PRIVATE ${objects} cpb_builtin cpb_harness cpb_stress cpb_check
                                         GTest::gtest_main GTest::gmock ${ARG_LIBS})
    gtest_discover_tests(${exe} DISCOVERY_MODE PRE_TEST TEST_PREFIX "${name}."
                         PROPERTIES LABELS ${label} TIMEOUT 300)
  endforeach()
  file(GLOB e2e_scripts CONFIGURE_DEPENDS "${dir}/*.e2e.sh")
  foreach(script IN LISTS e2e_scripts)
    if(script MATCHES "\\.model\\.e2e\\.sh$" AND CPB_SANITIZERS MATCHES "thread")
      continue()
    endif()
    get_filename_component(stem "${script}" NAME_WE)
    add_test(NAME e2e.${stem} COMMAND "${script}" "$<TARGET_FILE:cpbench>"
                                      "${CMAKE_BINARY_DIR}/e2e/${stem}")
    set_tests_properties(e2e.${stem} PROPERTIES LABELS e2e TIMEOUT 300)
  endforeach()
  if(NOT registers)
    return()
  endif()
  add_test(NAME bench-smoke.${name}
           COMMAND cpbench run --family ${name} --quick --min-time 0.005 --repetitions 1
                   --no-calibration --timeout 120 --out "${CMAKE_BINARY_DIR}/smoke/${name}.json")
  set_tests_properties(bench-smoke.${name} PROPERTIES LABELS bench-smoke TIMEOUT 900
                       FIXTURES_REQUIRED smoke_dir)
endfunction()

# cpb_add_plugin(<target> <sources>...)
#   Builds a cpbench executable with the implementations registered in <sources> beside the
#   built-in ones (CPB_REGISTER_IMPL in your own translation unit).
function(cpb_add_plugin target)
  add_executable(${target} ${ARGN})
  if(TARGET cpbench::main)
    target_link_libraries(${target} PRIVATE cpbench::main)
  else()
    target_link_libraries(${target} PRIVATE cpb_main)
  endif()
endfunction()
