#include "plugins/compute/opencl/cl_api.hpp"

#include <sealhost/sdk/error.hpp>

#include <dlfcn.h>

namespace sealhost::compute_opencl {

std::string load_cl_api(const char* library, ClApi* api) {
  void* handle = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    return why ? why : std::string(library) + ": cannot be opened";
  }
  ClApi loaded;
#define SEALHOST_CL_RESOLVE(name)                                            \
  loaded.name = reinterpret_cast<decltype(&::name)>(::dlsym(handle, #name)); \
  if (!loaded.name) return std::string(library) + ": has no " #name " (OpenCL 1.2 needed)";
  SEALHOST_CL_FUNCTIONS(SEALHOST_CL_RESOLVE)
#undef SEALHOST_CL_RESOLVE
  *api = loaded;
  return "";
}

const ClApi& cl() {
  struct Loaded {
    ClApi api;
    std::string error;
  };
  static const Loaded loaded = [] {
    Loaded l;
    l.error = load_cl_api("libOpenCL.so.1", &l.api);
    if (!l.error.empty() && load_cl_api("libOpenCL.so", &l.api).empty()) l.error.clear();
    return l;
  }();
  if (!loaded.error.empty()) {
    throw sdk::failed_precondition(
        "sealhost.compute.opencl: no OpenCL ICD loader (" + loaded.error +
        "; install ocl-icd-libopencl1 and a driver such as pocl-opencl-icd, or use "
        "sealhost.compute.cpu)");
  }
  return loaded.api;
}

}  // namespace sealhost::compute_opencl
