# Small helpers so each folder declares one library, its tests and its binaries.
#
#   shale_library(NAME SRCS a.cc b.cc DEPS other_lib absl::status)
#   shale_test(NAME SRCS a_test.cc DEPS lib [LABELS l] [TIMEOUT s]) -> gtest binary registered
#                                                     with ctest (each test: labels, timeout)
#   shale_binary(NAME SRCS main.cc DEPS lib)
#   shale_fuzzer(NAME SRCS fuzz.cc DEPS lib CORPUS dir) -> libFuzzer binary with SHALE_FUZZ=ON
#                                                     (clang); otherwise a corpus replay ctest

function(shale_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/proto)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

function(shale_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  include(GoogleTest)
  set(props ENVIRONMENT "SHALE_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
  if(ARG_LABELS)
    list(APPEND props LABELS "${ARG_LABELS}")
  endif()
  if(ARG_TIMEOUT)
    list(APPEND props TIMEOUT ${ARG_TIMEOUT})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()

function(shale_binary name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
endfunction()

# shale_fuzzer(NAME SRCS fuzz.cc DEPS lib CORPUS dir): a fuzz target defining
# LLVMFuzzerTestOneInput, with its committed seed corpus (relative to the
# calling folder). Output goes to <build>/fuzz/NAME either way.
#  - Ordinary builds: the target is linked with src/base/fuzz_replay_main.cc and
#    the ctest NAME_corpus replays every seed once, so each target runs in
#    every test run.
#  - SHALE_FUZZ=ON (clang only): a real libFuzzer binary built with
#    -fsanitize=fuzzer,address,undefined. The direct DEPS that are libraries of
#    this project get coverage instrumentation (fuzzer-no-link) and the same
#    sanitizers, so libFuzzer can see inside the code under test. NAME_corpus
#    then runs the binary over the seeds with -runs=0 (no mutation, no writes).
#    Fuzz by hand: <build>/fuzz/NAME -max_total_time=30 <scratch dir> <corpus>.
function(shale_fuzzer name)
  cmake_parse_arguments(ARG "" "CORPUS" "SRCS;DEPS" ${ARGN})
  if(NOT ARG_CORPUS)
    message(FATAL_ERROR "shale_fuzzer(${name}): CORPUS dir is required")
  endif()
  get_filename_component(corpus ${ARG_CORPUS} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT IS_DIRECTORY ${corpus})
    message(FATAL_ERROR "shale_fuzzer(${name}): corpus ${corpus} is not a directory")
  endif()
  set(sanitizers -fsanitize=address,undefined -fno-omit-frame-pointer)
  if(SHALE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      message(FATAL_ERROR "SHALE_FUZZ=ON needs clang: configure with CC=clang CXX=clang++")
    endif()
    add_executable(${name} ${ARG_SRCS})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer ${sanitizers})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer ${sanitizers})
    foreach(dep ${ARG_DEPS})
      if(TARGET ${dep})
        get_target_property(imported ${dep} IMPORTED)
        get_target_property(type ${dep} TYPE)
        if(NOT imported AND type STREQUAL "STATIC_LIBRARY")
          target_compile_options(${dep} PRIVATE -fsanitize=fuzzer-no-link ${sanitizers})
          target_link_options(${dep} INTERFACE ${sanitizers})
        endif()
      endif()
    endforeach()
    set(replay_args -runs=0)
  else()
    add_executable(${name} ${ARG_SRCS} ${PROJECT_SOURCE_DIR}/src/base/fuzz_replay_main.cc)
    set(replay_args)
  endif()
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
  add_test(NAME ${name}_corpus COMMAND ${name} ${replay_args} ${corpus})
  set_tests_properties(${name}_corpus PROPERTIES LABELS fuzz)
  # scripts/fuzz reads where the seeds are from here.
  file(WRITE ${PROJECT_BINARY_DIR}/fuzz/${name}.corpus "${corpus}")
endfunction()
