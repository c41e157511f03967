#include "plugins/compute/opencl/cl_runtime.hpp"

#include "plugins/compute/opencl/kernel_sources.hpp"
#include "proofs/poseidon/poseidon.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>

namespace sealhost::compute_opencl {
namespace {

namespace poseidon = proofs::poseidon;

// The ICD loader's "no platform" status (cl_khr_icd); not in every cl.h.
constexpr cl_int kPlatformNotFoundKhr = -1001;

constexpr const char* kNoPlatformFix =
    "install an OpenCL ICD (a GPU driver, or pocl-opencl-icd for the CPU), check that "
    "/etc/OpenCL/vendors (or OCL_ICD_VENDORS) lists it, or use sealhost.compute.cpu";

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

std::optional<size_t> as_index(std::string_view s) {
  size_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string platform_string(cl_platform_id p, cl_platform_info what) {
  size_t len = 0;
  if (cl().clGetPlatformInfo(p, what, 0, nullptr, &len) != CL_SUCCESS || len == 0) return "";
  std::string s(len, '\0');
  if (cl().clGetPlatformInfo(p, what, len, s.data(), nullptr) != CL_SUCCESS) return "";
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::string device_string(cl_device_id d, cl_device_info what) {
  size_t len = 0;
  if (cl().clGetDeviceInfo(d, what, 0, nullptr, &len) != CL_SUCCESS || len == 0) return "";
  std::string s(len, '\0');
  if (cl().clGetDeviceInfo(d, what, len, s.data(), nullptr) != CL_SUCCESS) return "";
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

template <class T>
T device_value(cl_device_id d, cl_device_info what, std::string_view name) {
  T v{};
  cl_check(cl().clGetDeviceInfo(d, what, sizeof(v), &v, nullptr),
           std::string("clGetDeviceInfo(") + std::string(name) + ")");
  return v;
}

std::vector<cl_platform_id> platforms() {
  cl_uint count = 0;
  const cl_int st = cl().clGetPlatformIDs(0, nullptr, &count);
  if (st == kPlatformNotFoundKhr || (st == CL_SUCCESS && count == 0)) return {};
  cl_check(st, "clGetPlatformIDs");
  std::vector<cl_platform_id> ids(count);
  cl_check(cl().clGetPlatformIDs(count, ids.data(), nullptr), "clGetPlatformIDs");
  return ids;
}

std::vector<cl_device_id> devices(cl_platform_id p) {
  cl_uint count = 0;
  const cl_int st = cl().clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &count);
  if (st == CL_DEVICE_NOT_FOUND || (st == CL_SUCCESS && count == 0)) return {};
  cl_check(st, "clGetDeviceIDs");
  std::vector<cl_device_id> ids(count);
  cl_check(cl().clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, count, ids.data(), nullptr),
           "clGetDeviceIDs");
  return ids;
}

bool matches(std::string_view spec, size_t index, const std::string& name) {
  if (spec.empty()) return true;
  if (auto i = as_index(spec)) return *i == index;
  return lower(name).find(lower(spec)) != std::string::npos;
}

}  // namespace

std::string cl_status_text(cl_int status) {
  const char* name = nullptr;
  switch (status) {
    case CL_SUCCESS:
      name = "CL_SUCCESS";
      break;
    case CL_DEVICE_NOT_FOUND:
      name = "CL_DEVICE_NOT_FOUND";
      break;
    case CL_DEVICE_NOT_AVAILABLE:
      name = "CL_DEVICE_NOT_AVAILABLE";
      break;
    case CL_COMPILER_NOT_AVAILABLE:
      name = "CL_COMPILER_NOT_AVAILABLE";
      break;
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
      name = "CL_MEM_OBJECT_ALLOCATION_FAILURE";
      break;
    case CL_OUT_OF_RESOURCES:
      name = "CL_OUT_OF_RESOURCES";
      break;
    case CL_OUT_OF_HOST_MEMORY:
      name = "CL_OUT_OF_HOST_MEMORY";
      break;
    case CL_BUILD_PROGRAM_FAILURE:
      name = "CL_BUILD_PROGRAM_FAILURE";
      break;
    case CL_INVALID_VALUE:
      name = "CL_INVALID_VALUE";
      break;
    case CL_INVALID_DEVICE:
      name = "CL_INVALID_DEVICE";
      break;
    case CL_INVALID_CONTEXT:
      name = "CL_INVALID_CONTEXT";
      break;
    case CL_INVALID_COMMAND_QUEUE:
      name = "CL_INVALID_COMMAND_QUEUE";
      break;
    case CL_INVALID_MEM_OBJECT:
      name = "CL_INVALID_MEM_OBJECT";
      break;
    case CL_INVALID_BUILD_OPTIONS:
      name = "CL_INVALID_BUILD_OPTIONS";
      break;
    case CL_INVALID_PROGRAM_EXECUTABLE:
      name = "CL_INVALID_PROGRAM_EXECUTABLE";
      break;
    case CL_INVALID_KERNEL_NAME:
      name = "CL_INVALID_KERNEL_NAME";
      break;
    case CL_INVALID_KERNEL_ARGS:
      name = "CL_INVALID_KERNEL_ARGS";
      break;
    case CL_INVALID_WORK_GROUP_SIZE:
      name = "CL_INVALID_WORK_GROUP_SIZE";
      break;
    case CL_INVALID_WORK_ITEM_SIZE:
      name = "CL_INVALID_WORK_ITEM_SIZE";
      break;
    case CL_INVALID_GLOBAL_WORK_SIZE:
      name = "CL_INVALID_GLOBAL_WORK_SIZE";
      break;
    case CL_INVALID_BUFFER_SIZE:
      name = "CL_INVALID_BUFFER_SIZE";
      break;
    case CL_INVALID_EVENT:
      name = "CL_INVALID_EVENT";
      break;
    case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST:
      name = "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST";
      break;
    case kPlatformNotFoundKhr:
      name = "CL_PLATFORM_NOT_FOUND_KHR";
      break;
    default:
      break;
  }
  return std::string(name ? name : "OpenCL error") + " (" + std::to_string(status) + ")";
}

sdk::Error cl_error(cl_int status, std::string_view what) {
  const bool memory = status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES ||
                      status == CL_OUT_OF_HOST_MEMORY || status == CL_INVALID_BUFFER_SIZE;
  std::string msg = std::string(what) + " failed: " + cl_status_text(status);
  if (memory) {
    return sdk::exhausted(msg +
                          " (the device is out of memory: lower memory_limit or batch_size, "
                          "or free the device)");
  }
  return {SEALHOST_E_UNAVAILABLE, msg +
                                      " (the OpenCL device or driver failed; check the driver "
                                      "log, or use sealhost.compute.cpu)"};
}

DeviceChoice select_device(std::string_view platform_spec, std::string_view device_spec) {
  const auto all = platforms();
  if (all.empty()) {
    throw sdk::failed_precondition(std::string("sealhost.compute.opencl: no OpenCL platform (") +
                                   kNoPlatformFix + ")");
  }
  std::string seen;  // "platform 0 \"X\": device 0 \"Y\", ..." for error messages
  std::vector<DeviceChoice> candidates;
  bool platform_matched = false;
  for (size_t pi = 0; pi < all.size(); ++pi) {
    const std::string pname = platform_string(all[pi], CL_PLATFORM_NAME);
    seen += (seen.empty() ? "" : "; ") + std::string("platform ") + std::to_string(pi) + " \"" +
            pname + "\"";
    const auto devs = devices(all[pi]);
    for (size_t di = 0; di < devs.size(); ++di) {
      seen += (di ? ", " : ": ") + std::string("device ") + std::to_string(di) + " \"" +
              device_string(devs[di], CL_DEVICE_NAME) + "\"";
    }
    if (devs.empty()) seen += ": no device";
    if (!matches(platform_spec, pi, pname)) continue;
    platform_matched = true;
    for (auto d : devs) candidates.push_back({all[pi], d, pname, device_string(d, CL_DEVICE_NAME)});
  }
  if (!platform_matched) {
    throw sdk::invalid_argument("option 'platform' = \"" + std::string(platform_spec) +
                                "\" matches no OpenCL platform (have " + seen +
                                "; give an index or part of a name, or leave it empty)");
  }
  if (candidates.empty()) {
    throw sdk::failed_precondition(
        std::string("sealhost.compute.opencl: no OpenCL device on the chosen platform(s) (have ") +
        seen + "; " + kNoPlatformFix + ")");
  }
  if (device_spec.empty()) {
    for (const auto& c : candidates) {
      const auto type = device_value<cl_device_type>(c.device, CL_DEVICE_TYPE, "CL_DEVICE_TYPE");
      if (type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)) return c;
    }
    return candidates.front();
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (matches(device_spec, i, candidates[i].device_name)) return candidates[i];
  }
  throw sdk::invalid_argument("option 'device' = \"" + std::string(device_spec) +
                              "\" matches no OpenCL device (have " + seen +
                              "; an index counts the devices of the chosen platform(s) in order)");
}

DeviceRuntime& DeviceRuntime::get(const DeviceChoice& choice) {
  // Leaked on purpose: releasing contexts during static destruction races the ICD's own teardown.
  static auto* mu = new std::mutex;
  static auto* runtimes = new std::map<cl_device_id, std::unique_ptr<DeviceRuntime>>;
  std::lock_guard lock(*mu);
  auto& slot = (*runtimes)[choice.device];
  if (!slot) slot.reset(new DeviceRuntime(choice));
  return *slot;
}

DeviceRuntime::DeviceRuntime(const DeviceChoice& choice) : device_(choice.device) {
  if (device_value<cl_bool>(device_, CL_DEVICE_ENDIAN_LITTLE, "CL_DEVICE_ENDIAN_LITTLE") !=
      CL_TRUE) {
    throw sdk::failed_precondition("OpenCL device \"" + choice.device_name +
                                   "\" is big-endian; sealhost.compute.opencl needs a "
                                   "little-endian device (use another device or "
                                   "sealhost.compute.cpu)");
  }
  if (device_value<cl_bool>(device_, CL_DEVICE_COMPILER_AVAILABLE,
                            "CL_DEVICE_COMPILER_AVAILABLE") != CL_TRUE) {
    throw sdk::failed_precondition("OpenCL device \"" + choice.device_name +
                                   "\" has no compiler; the kernels are built from source (install "
                                   "the driver's compiler or use sealhost.compute.cpu)");
  }
  const cl_context_properties props[] = {
      CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(choice.platform), 0};
  cl_int st = CL_SUCCESS;
  context_ = Context(cl().clCreateContext(props, 1, &device_, nullptr, nullptr, &st));
  cl_check(st, "clCreateContext on \"" + choice.device_name + "\"");
  name_ = choice.device_name + " (" + choice.platform_name + ")";
  compute_units_ = device_value<cl_uint>(device_, CL_DEVICE_MAX_COMPUTE_UNITS, "compute units");
  global_memory_ = device_value<cl_ulong>(device_, CL_DEVICE_GLOBAL_MEM_SIZE, "global memory");
  max_allocation_ = device_value<cl_ulong>(device_, CL_DEVICE_MAX_MEM_ALLOC_SIZE, "max alloc");
  max_work_group_ = device_value<size_t>(device_, CL_DEVICE_MAX_WORK_GROUP_SIZE, "work group");
  is_cpu_ = (device_value<cl_device_type>(device_, CL_DEVICE_TYPE, "CL_DEVICE_TYPE") &
             CL_DEVICE_TYPE_CPU) != 0;
}

Program DeviceRuntime::try_build(std::string_view source, const std::string& options,
                                 cl_int* status, std::string* log) {
  const char* text = source.data();
  const size_t len = source.size();
  Program p(cl().clCreateProgramWithSource(context_.get(), 1, &text, &len, status));
  if (*status != CL_SUCCESS) return {};
  *status = cl().clBuildProgram(p.get(), 1, &device_, options.c_str(), nullptr, nullptr);
  if (*status == CL_SUCCESS) return p;
  size_t log_len = 0;
  cl().clGetProgramBuildInfo(p.get(), device_, CL_PROGRAM_BUILD_LOG, 0, nullptr, &log_len);
  log->assign(log_len, '\0');
  if (log_len) {
    cl().clGetProgramBuildInfo(p.get(), device_, CL_PROGRAM_BUILD_LOG, log_len, log->data(),
                               nullptr);
  }
  while (!log->empty() && (log->back() == '\0' || log->back() == '\n')) log->pop_back();
  if (log->size() > 2000) *log = log->substr(0, 2000) + " ...";
  return {};
}

Program DeviceRuntime::build(std::string_view source, const std::string& options,
                             std::string_view what) {
  cl_int st = CL_SUCCESS;
  std::string log;
  Program p = try_build(source, options, &st, &log);
  if (st != CL_SUCCESS) {
    throw sdk::Error(SEALHOST_E_UNAVAILABLE,
                     "building the " + std::string(what) + " kernels for \"" + name_ +
                         "\" failed: " + cl_status_text(st) + "; build log: " + log +
                         " (update the OpenCL driver or use sealhost.compute.cpu)");
  }
  return p;
}

DeviceRuntime::PoseidonProgram DeviceRuntime::poseidon(size_t arity, bool portable) {
  const auto it =
      std::find(poseidon::kSupportedArities.begin(), poseidon::kSupportedArities.end(), arity);
  if (it == poseidon::kSupportedArities.end()) {
    throw sdk::invalid_argument("poseidon arity " + std::to_string(arity) + " is not supported");
  }
  const auto index = static_cast<size_t>(it - poseidon::kSupportedArities.begin());
  const auto& c = poseidon::constants(arity);
  auto& constants = constants_[index];
  std::call_once(constants.once, [&] {
    // The layout poseidon.cl expects: crc, mds, pre_sparse, sparse.
    std::vector<uint64_t> limbs = poseidon::montgomery_limbs(c.compressed_round_constants);
    for (const auto* part : {&c.mds, &c.pre_sparse, &c.sparse}) {
      const auto more = poseidon::montgomery_limbs(*part);
      limbs.insert(limbs.end(), more.begin(), more.end());
    }
    cl_int st = CL_SUCCESS;
    Buffer buffer(cl().clCreateBuffer(context_.get(), CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                      limbs.size() * sizeof(uint64_t), limbs.data(), &st));
    cl_check(st, "uploading the poseidon arity " + std::to_string(arity) + " constants");
    constants.buffer = std::move(buffer);
  });
  auto& slot = poseidon_[portable ? 1 : 0][index];
  std::call_once(slot.once, [&] {
    const std::string opts = "-cl-std=CL1.2 -DARITY=" + std::to_string(arity) +
                             " -DFULL_ROUNDS=" + std::to_string(c.full_rounds) +
                             " -DPARTIAL_ROUNDS=" + std::to_string(c.partial_rounds);
    const std::string source = std::string(kernels::kFrCl) + kernels::kPoseidonCl;
    const std::string what = "poseidon arity " + std::to_string(arity);
    if (!portable && is_cpu_) {
      // OpenCL C has no 128-bit integer; clang-based CPU compilers accept one anyway. Fall back
      // to the portable kernel when this one does not.
      cl_int st = CL_SUCCESS;
      std::string log;
      slot.program = try_build(source, opts + " -DSEALHOST_FR_INT128", &st, &log);
      slot.int128 = st == CL_SUCCESS;
    }
    if (!slot.program) slot.program = build(source, opts, what);
  });
  return {slot.program.get(), constants.buffer.get(), slot.int128};
}

cl_program DeviceRuntime::sha254() {
  std::call_once(sha_once_, [&] { sha_ = build(kernels::kSha254Cl, "-cl-std=CL1.2", "sha254"); });
  return sha_.get();
}

}  // namespace sealhost::compute_opencl
