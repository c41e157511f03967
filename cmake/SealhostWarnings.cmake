# Project-wide warning flags, applied per target so third-party code is not affected.
function(sealhost_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(SEALHOST_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
