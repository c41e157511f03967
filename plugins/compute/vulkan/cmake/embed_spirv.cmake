# cmake -DINPUT=<glslc -mfmt=c output> -DOUTPUT=<header> -DSYMBOL=<name> -P embed_spirv.cmake
# Wraps the SPIR-V words glslc printed as a C initializer into a header of uint32_t words.
file(READ "${INPUT}" words)
string(STRIP "${words}" words)
file(WRITE "${OUTPUT}.tmp"
"// Generated at build time by embed_spirv.cmake from glslc output: do not edit.\n"
"#pragma once\n#include <cstdint>\n"
"namespace sealhost::compute_vulkan::spirv {\n"
"inline constexpr uint32_t ${SYMBOL}[] = ${words};\n"
"}  // namespace sealhost::compute_vulkan::spirv\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
