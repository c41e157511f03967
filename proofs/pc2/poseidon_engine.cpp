#include "proofs/pc2/poseidon_engine.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

#include "proofs/field/fr.hpp"
#include "proofs/poseidon/poseidon.hpp"

namespace sealhost::proofs::pc2 {
namespace {

// Below this many hashes per worker a thread costs more than it saves.
constexpr size_t kMinHashesPerThread = 256;

// Runs body(begin, end) over [0, n) on up to `threads` threads (the caller included). Work is
// handed out in grains from a shared counter rather than split statically, so a thread that the
// OS deschedules on a busy machine does not leave the others waiting at the end. Rethrows the
// first worker exception after every worker has finished.
template <class Body>
void parallel_ranges(size_t n, unsigned threads, const Body& body) {
  const size_t workers = std::max<size_t>(1, std::min<size_t>(threads, n / kMinHashesPerThread));
  if (workers <= 1) {
    body(size_t{0}, n);
    return;
  }
  const size_t grain = std::max(kMinHashesPerThread, n / (workers * 16));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::exception_ptr> errors(workers);
  auto run = [&](size_t w) {
    try {
      for (;;) {
        const size_t begin = next.fetch_add(grain);
        if (begin >= n || failed.load(std::memory_order_relaxed)) return;
        body(begin, std::min(n, begin + grain));
      }
    } catch (...) {
      errors[w] = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(run, w);
  run(0);
  for (auto& t : pool) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

void check_arity(size_t arity) {
  if (!poseidon::is_supported_arity(arity)) {
    throw std::invalid_argument("poseidon engine: arity " + std::to_string(arity) +
                                " is not supported (2, 4, 8, 11, 16, 24 or 36)");
  }
}

}  // namespace

CpuPoseidonEngine::CpuPoseidonEngine(unsigned threads) : threads_(std::max(1U, threads)) {}

void CpuPoseidonEngine::hash_batch(size_t arity, PoseidonTag tag, const uint8_t* in, uint8_t* out,
                                   size_t n) {
  check_arity(arity);
  if (tag == PoseidonTag::kMerkleTree) {
    parallel_ranges(n, threads_, [&](size_t begin, size_t end) {
      poseidon::hash_batch_bytes(arity, in + begin * arity * 32, out + begin * 32, end - begin);
    });
    return;
  }
  if (tag != PoseidonTag::kConstantLength) {
    throw std::invalid_argument("poseidon engine: unknown domain tag " +
                                std::to_string(static_cast<uint32_t>(tag)));
  }
  parallel_ranges(n, threads_, [&](size_t begin, size_t end) {
    std::vector<field::Fr> inputs(arity);
    for (size_t i = begin; i < end; ++i) {
      for (size_t j = 0; j < arity; ++j) {
        inputs[j] = field::Fr::from_bytes_checked(in + (i * arity + j) * 32, "poseidon input");
      }
      poseidon::hash_constant_length(arity, inputs).to_bytes(out + i * 32);
    }
  });
}

void CpuPoseidonEngine::tree_rows(size_t arity, const uint8_t* leaves, size_t n,
                                  uint8_t* rows_out) {
  check_arity(arity);
  size_t width = n;
  while (width > 1 && width % arity == 0) width /= arity;
  if (n < arity || width != 1) {
    throw std::invalid_argument("poseidon engine: tree of " + std::to_string(n) +
                                " leaves is not a power of arity " + std::to_string(arity));
  }
  const uint8_t* children = leaves;
  uint8_t* row = rows_out;
  for (width = n / arity; width >= 1; width /= arity) {
    hash_batch(arity, PoseidonTag::kMerkleTree, children, row, width);
    children = row;
    row += width * 32;
    if (width == 1) break;
  }
}

}  // namespace sealhost::proofs::pc2
