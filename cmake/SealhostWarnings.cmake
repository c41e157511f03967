# Project-wide warning flags, applied per target so third-party code is not affected.
function(sealhost_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(SEALHOST_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(SEALHOST_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12's flow analysis reports false maybe-uninitialized warnings inside libstdc++
    # (std::regex, std::function) once -fsanitize instruments the code.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
endfunction()
