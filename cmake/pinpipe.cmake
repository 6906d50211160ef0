# Helpers shared by every module's CMakeLists.txt.

set(PINPIPE_WARNINGS -Wall -Wextra -Wno-missing-field-initializers)
if(PINPIPE_WERROR)
  list(APPEND PINPIPE_WARNINGS -Werror)
endif()

# pinpipe_unity_tests(TARGET): a test binary's files are compiled as unity
# translation units of up to 8 files. Each test file compiled and optimised the
# same GoogleTest templates (EXPECT_*, matchers, printers) again: base_test's 11
# files took 18.7 CPU-seconds one by one, 7.2 as one unity file. So the helpers
# in a test binary's anonymous namespaces need distinct names; a file that
# cannot (or should not) share a unity file gets SKIP_UNITY_BUILD_INCLUSION.
function(pinpipe_unity_tests target)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
endfunction()

# pinpipe_module(NAME [DEPS lib...])
# Builds src/pinpipe/NAME/*.cc (without *_test.cc) into the library
# pinpipe_NAME (alias pinpipe::NAME) and every NAME/*_test.cc into one
# GoogleTest binary NAME_test labelled `unit`.
function(pinpipe_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cc")
  file(GLOB tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc")
  if(tests)
    list(REMOVE_ITEM srcs ${tests})
  endif()
  set(lib pinpipe_${name})
  if(srcs)
    add_library(${lib} STATIC ${srcs})
    target_include_directories(${lib} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_compile_options(${lib} PRIVATE ${PINPIPE_WARNINGS})
    target_link_libraries(${lib} PUBLIC ${ARG_DEPS})
  else()
    add_library(${lib} INTERFACE)
    target_include_directories(${lib} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${lib} INTERFACE ${ARG_DEPS})
  endif()
  add_library(pinpipe::${name} ALIAS ${lib})
  if(PINPIPE_BUILD_TESTS AND tests)
    add_executable(${name}_test ${tests})
    pinpipe_unity_tests(${name}_test)
    target_compile_options(${name}_test PRIVATE ${PINPIPE_WARNINGS})
    target_link_libraries(${name}_test PRIVATE ${lib} ${ARG_TEST_DEPS} GTest::gmock GTest::gtest_main)
    gtest_discover_tests(${name}_test
      PROPERTIES LABELS unit ENVIRONMENT "PINPIPE_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
      DISCOVERY_TIMEOUT 60)
  endif()
endfunction()

# pinpipe_test(NAME SOURCES file... DEPS lib... LABELS label... [TIMEOUT s])
# An integration or end-to-end GoogleTest binary under tests/.
function(pinpipe_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  pinpipe_unity_tests(${name})
  target_compile_options(${name} PRIVATE ${PINPIPE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "PINPIPE_SOURCE_DIR=${PROJECT_SOURCE_DIR};PINPIPE_BINARY=${PROJECT_BINARY_DIR}/pinpipe;PINPIPE_PEERS_DIR=${PROJECT_SOURCE_DIR}/tests/peers"
    DISCOVERY_TIMEOUT 60)
endfunction()

# pinpipe_use_allocator(TARGET): links the allocator the pinpipe binary ships
# with, so that benchmarks measure what users run.
function(pinpipe_use_allocator target)
  if(PINPIPE_JEMALLOC)
    find_library(JEMALLOC_LIBRARY NAMES jemalloc REQUIRED)
    target_link_libraries(${target} PRIVATE ${JEMALLOC_LIBRARY})
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/apps/allocator/malloc_conf.cc)
  endif()
endfunction()
