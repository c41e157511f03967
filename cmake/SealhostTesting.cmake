include(GoogleTest)

# sealhost_test(<name> SOURCES ... [LIBS ...] [LABELS ...] [TIMEOUT s])
# Builds one GoogleTest binary and registers each of its tests with CTest under the labels.
# Tests find the project's vectors through SEALHOST_TEST_VECTORS and the built plugins through
# SEALHOST_TEST_PLUGIN_DIR, so they never depend on the current directory.
function(sealhost_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE GTest::gtest_main GTest::gmock ${T_LIBS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE
    SEALHOST_TEST_VECTORS="${PROJECT_SOURCE_DIR}/tests/vectors"
    SEALHOST_TEST_PLUGIN_DIR="${SEALHOST_PLUGIN_DIR}"
    SEALHOST_TEST_BINARY_DIR="${PROJECT_BINARY_DIR}")
  sealhost_warnings(${name})
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()

# Adds every immediate subdirectory that has a CMakeLists.txt, in sorted order.
function(sealhost_add_subdirs)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child} AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()

# sealhost_library(<name> [STATIC|INTERFACE] SOURCES ... [LIBS ...])
function(sealhost_library name)
  cmake_parse_arguments(L "" "" "SOURCES;LIBS;PUBLIC_LIBS" ${ARGN})
  add_library(${name} STATIC ${L_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${L_LIBS} PUBLIC ${L_PUBLIC_LIBS})
  sealhost_warnings(${name})
endfunction()
