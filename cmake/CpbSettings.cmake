# Warning and sanitizer flags live on INTERFACE targets, never in global flags.
add_library(cpb_warnings INTERFACE)
add_library(cpb::warnings ALIAS cpb_warnings)
target_compile_options(cpb_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  $<$<BOOL:${CPB_WERROR}>:-Werror>)

add_library(cpb_sanitize INTERFACE)
add_library(cpb::sanitize ALIAS cpb_sanitize)
if(CPB_SANITIZERS)
  if(CPB_SANITIZERS MATCHES "thread" AND CPB_SANITIZERS MATCHES "address")
    message(FATAL_ERROR "CPB_SANITIZERS: 'thread' and 'address' cannot be combined")
  endif()
  set(_cpb_san_flags -fsanitize=${CPB_SANITIZERS} -fno-omit-frame-pointer
                     -fno-sanitize-recover=all)
  target_compile_options(cpb_sanitize INTERFACE ${_cpb_san_flags})
  target_link_options(cpb_sanitize INTERFACE ${_cpb_san_flags})
  target_compile_definitions(cpb_sanitize INTERFACE CPB_SANITIZERS="${CPB_SANITIZERS}")
  if(CPB_SANITIZERS MATCHES "thread")
    # GCC warns at every inlined atomic_thread_fence that TSan ignores fences: hundreds of lines
    # per translation unit. The code that must be right under TSan publishes with release
    # stores instead (thread_pool/chase_lev_deque.hpp).
    target_compile_options(cpb_sanitize INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  endif()
endif()

# Everything we build links both, and compiles as C++20 without extensions.
add_library(cpb_settings INTERFACE)
add_library(cpb::settings ALIAS cpb_settings)
target_compile_features(cpb_settings INTERFACE cxx_std_20)
target_link_libraries(cpb_settings INTERFACE $<BUILD_INTERFACE:cpb_warnings> cpb_sanitize
                                           Threads::Threads)
set(CMAKE_CXX_EXTENSIONS OFF)
