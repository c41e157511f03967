// sealhost.compute.cpu: the compute kernels of abi.h (Poseidon batches, Poseidon Merkle rows,
// SHA254 node batches) on the host's CPUs, split into tasks of `batch_size` hashes over a
// ThreadPool. Results are bit-identical to proofs::poseidon / proofs::sha256, which do the
// hashing; this class adds the splitting, validation, progress and cancellation.
//
// Buffers are borrowed for the call. Inputs and outputs may overlap (the inputs are then copied
// first). Field elements are 32-byte canonical little-endian; a non-canonical input fails the
// whole call with INVALID_ARGUMENT naming the lowest bad element index. On any failure or cancel
// the output buffer holds an unspecified mix of old and new values.
//
// Threading: every method may be called from several threads at once; calls share the pool.
#pragma once

#include "plugins/compute/cpu/options.hpp"
#include "plugins/compute/cpu/thread_pool.hpp"

#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sealhost::compute_cpu {

class CpuCompute {
 public:
  static constexpr const char* kId = "sealhost.compute.cpu";

  explicit CpuCompute(const sdk::Context& ctx);
  explicit CpuCompute(const CpuOptions& options, sdk::Logger log = {});

  sdk::DeviceInfo device_info() const;
  void poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs, uint8_t* out, size_t n,
                      const sdk::Job& job);
  void tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                  const sdk::Job& job);
  void sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n, const sdk::Job& job);

  unsigned threads() const { return pool_.threads(); }
  size_t batch_size() const { return batch_size_; }

 private:
  // Hashes `count` Poseidon preimages (count*arity elements at `in`) into `out`, in tasks over the
  // pool. `first_element` is the index of in[0] in the caller's numbering (for error messages),
  // `what` names the input ("poseidon_batch input", "tree_build leaf"). Progress counts from
  // `done_before` towards `total`. Throws sdk::Error on bad input or cancel.
  void poseidon_tasks(uint32_t arity, uint32_t tag, const uint8_t* in, uint8_t* out, size_t count,
                      std::string_view what, const sdk::Job& job, uint64_t done_before,
                      uint64_t total, std::string_view phase, std::string_view call);

  sdk::Logger log_;
  size_t batch_size_;
  ThreadPool pool_;
  std::string cpu_name_;
  uint64_t memory_bytes_;
};

// The "model name" of the first CPU in a /proc/cpuinfo text, or "" when there is none (some
// non-x86 kernels do not report one).
std::string cpu_model_from_cpuinfo(std::string_view cpuinfo);

// "2, 4, 8, 11, 16, 24, 36": the Poseidon arities poseidon_batch and tree_build accept.
std::string supported_arities_text();

}  // namespace sealhost::compute_cpu
