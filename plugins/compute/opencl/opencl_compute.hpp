// sealhost.compute.opencl: the compute kernels of abi.h (Poseidon batches, Poseidon Merkle rows,
// SHA254 node batches) on an OpenCL device. Results are bit-identical to proofs::poseidon /
// proofs::sha256 (checked by tests/conformance/compute_suite).
//
// Buffers are borrowed for the call: inputs are copied to the device launch by launch and results
// copied straight back into `out`; every command touching a caller's buffer has finished when a
// method returns or throws. Inputs and outputs may overlap (the inputs are then copied first).
// Field elements are 32-byte canonical little-endian; a non-canonical input fails the whole call
// with INVALID_ARGUMENT naming the lowest bad element index, before anything runs on the device.
// On any failure or cancel the output buffer holds an unspecified mix of old and new values.
//
// Threading: every method may be called from several threads at once. Each call has its own
// command queue, kernel objects and buffers; programs and Poseidon constants are shared,
// process-wide, by every instance on the same device (DeviceRuntime).
#pragma once

#include "plugins/compute/opencl/cl_runtime.hpp"
#include "plugins/compute/opencl/options.hpp"

#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sealhost::compute_opencl {

class OpenClCompute {
 public:
  static constexpr const char* kId = "sealhost.compute.opencl";

  explicit OpenClCompute(const sdk::Context& ctx);
  // Selects the device and builds the SHA254 program and the Poseidon programs of `preload`
  // arities (the others are built on first use). Throws sdk::Error when no device matches.
  explicit OpenClCompute(const OpenClOptions& options, sdk::Logger log = {});

  sdk::DeviceInfo device_info() const;
  void poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs, uint8_t* out, size_t n,
                      const sdk::Job& job);
  void tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                  const sdk::Job& job);
  void sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n, const sdk::Job& job);

  size_t batch_size() const { return batch_size_; }
  uint64_t memory_limit() const { return memory_limit_; }
  const std::string& device_name() const { return runtime_->name(); }
  // "int128" or "portable": the Fr multiplication the arity-8 kernel uses on this device.
  std::string field_kernel() const;

  // Leaves per sub-tree when `n` leaves of `arity` do not fit the memory limit at once: the
  // largest arity^k (k >= 1) whose leaves and rows fit. Equals n when the whole tree fits.
  // Exposed for tests.
  size_t tree_chunk_leaves(uint32_t arity, size_t n) const;

  // Progress of one call in hashes and the cancel poll after each report (opencl_compute.cpp).
  struct Progress;

 private:
  // The work-group size of launches of `kernel`: the local_size option, or kDefaultLocalSize
  // (rounded down to a power of two the kernel allows). Throws when the option is too large.
  size_t work_group(cl_kernel kernel, std::string_view what) const;
  void build_rows(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                  Progress& progress);

  sdk::Logger log_;
  DeviceRuntime* runtime_;
  size_t batch_size_;
  uint64_t memory_limit_;
  size_t local_size_;
  bool portable_field_;
};

// "2, 4, 8, 11, 16, 24, 36": the Poseidon arities poseidon_batch and tree_build accept.
std::string supported_arities_text();

// Index of the first 32-byte element of `count` at `p` that is not canonical (>= r), or `count`.
size_t first_non_canonical(const uint8_t* p, size_t count);

}  // namespace sealhost::compute_opencl
