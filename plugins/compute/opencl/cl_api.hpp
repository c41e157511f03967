// The OpenCL entry points sealhost.compute.opencl uses, resolved at run time from the ICD loader
// (libOpenCL.so.1) instead of linked: the module then loads on hosts without OpenCL (so the host
// can list its options and load every other plugin), and creating a component there fails with
// a message naming the package to install.
//
// Threading: cl() may be called from any thread; the table is filled once and never changes.
#pragma once

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <string>

namespace sealhost::compute_opencl {

#define SEALHOST_CL_FUNCTIONS(X) \
  X(clGetPlatformIDs)            \
  X(clGetPlatformInfo)           \
  X(clGetDeviceIDs)              \
  X(clGetDeviceInfo)             \
  X(clCreateContext)             \
  X(clReleaseContext)            \
  X(clCreateCommandQueue)        \
  X(clReleaseCommandQueue)       \
  X(clCreateProgramWithSource)   \
  X(clBuildProgram)              \
  X(clGetProgramBuildInfo)       \
  X(clReleaseProgram)            \
  X(clCreateKernel)              \
  X(clReleaseKernel)             \
  X(clSetKernelArg)              \
  X(clGetKernelWorkGroupInfo)    \
  X(clCreateBuffer)              \
  X(clReleaseMemObject)          \
  X(clEnqueueWriteBuffer)        \
  X(clEnqueueReadBuffer)         \
  X(clEnqueueNDRangeKernel)      \
  X(clFlush)                     \
  X(clFinish)                    \
  X(clWaitForEvents)             \
  X(clReleaseEvent)

struct ClApi {
#define SEALHOST_CL_MEMBER(name) decltype(&::name) name = nullptr;
  SEALHOST_CL_FUNCTIONS(SEALHOST_CL_MEMBER)
#undef SEALHOST_CL_MEMBER
};

// Opens `library` (a soname or path) and resolves every function of ClApi into *api. Returns ""
// on success, else what is missing ("libOpenCL.so.1: cannot open shared object file ...").
// The library is never closed.
std::string load_cl_api(const char* library, ClApi* api);

// The process-wide table from libOpenCL.so.1 (or libOpenCL.so), loaded on first use. Throws
// sdk::Error(FAILED_PRECONDITION) naming the package to install when it cannot be loaded.
const ClApi& cl();

}  // namespace sealhost::compute_opencl
