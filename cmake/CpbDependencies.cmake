# Third-party libraries of the async and event-driven families, as imported targets. Included by
# the top-level CMakeLists.txt and by the installed cpbenchConfig.cmake, so that a plug-in
# project that links cpbench::builtin finds the same targets.
find_package(Boost 1.74 REQUIRED COMPONENTS fiber context thread)
find_package(PkgConfig REQUIRED)
pkg_check_modules(libuv REQUIRED IMPORTED_TARGET GLOBAL libuv)
pkg_check_modules(libevent REQUIRED IMPORTED_TARGET GLOBAL libevent_core libevent_pthreads)
pkg_check_modules(liburing REQUIRED IMPORTED_TARGET GLOBAL liburing)

# CAF 0.17 (libcaf-dev) ships no CMake package.
if(NOT TARGET CAF::core)
  find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
  find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
  find_library(CAF_IO_LIBRARY caf_io REQUIRED)
  add_library(CAF::core UNKNOWN IMPORTED GLOBAL)
  set_target_properties(CAF::core PROPERTIES IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
                                             INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
  add_library(CAF::io UNKNOWN IMPORTED GLOBAL)
  set_target_properties(CAF::io PROPERTIES IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
                                           INTERFACE_LINK_LIBRARIES CAF::core)
endif()
