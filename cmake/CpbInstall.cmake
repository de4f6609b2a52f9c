# Installs the libraries, headers and the CMake package `cpbench`, so that a plug-in project can
# `find_package(cpbench CONFIG)` and call `cpb_add_plugin()`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_cpb_targets cpb_settings cpb_sanitize cpb_harness cpb_stress cpb_check cpb_reports cpb_cli cpb_main
                 cpb_builtin)
foreach(t IN LISTS _cpb_targets ITEMS cpb_warnings)
  string(REGEX REPLACE "^cpb_" "" _name "${t}")
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${_name})
endforeach()
install(TARGETS ${_cpb_targets} cpb_warnings EXPORT cpbenchTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cpbench)
install(TARGETS cpbench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY harness patterns workloads reports
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cpbench
        FILES_MATCHING PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/generated/reports/build_info.hpp"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cpbench/reports)
install(EXPORT cpbenchTargets NAMESPACE cpbench:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cpbench)
configure_package_config_file(cmake/cpbenchConfig.cmake.in
  "${PROJECT_BINARY_DIR}/cpbenchConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cpbench)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/cpbenchConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/cpbenchConfig.cmake"
              "${PROJECT_BINARY_DIR}/cpbenchConfigVersion.cmake" cmake/CpbHelpers.cmake
              cmake/CpbDependencies.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cpbench)
