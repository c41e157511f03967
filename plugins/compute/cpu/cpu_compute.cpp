#include "plugins/compute/cpu/cpu_compute.hpp"

#include "proofs/field/fr.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sha256/sha256.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <vector>

namespace sealhost::compute_cpu {
namespace {

namespace poseidon = proofs::poseidon;
using proofs::field::Fr;
constexpr size_t kElem = sdk::kFieldElementBytes;
// Hashes converted to Montgomery form at a time inside one task: keeps the scratch buffers of a
// task small (64 * 36 * 32 bytes at most) while feeding hash_batch enough lanes.
constexpr size_t kChunk = 64;
constexpr size_t kNoError = std::numeric_limits<size_t>::max();

bool overlaps(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len) {
  const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return a_len != 0 && b_len != 0 && pa < pb + b_len && pb < pa + a_len;
}

void check_arity(uint32_t arity, std::string_view call) {
  if (!poseidon::is_supported_arity(arity)) {
    throw sdk::invalid_argument(std::string(call) + ": arity " + std::to_string(arity) +
                                " is not supported (use one of " + supported_arities_text() + ")");
  }
}

// Lowers `slot` to `value` if smaller; tasks race to report their first bad element.
void record_min(std::atomic<size_t>& slot, size_t value) {
  size_t cur = slot.load(std::memory_order_relaxed);
  while (value < cur && !slot.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

std::string read_cpuinfo() {
  std::ifstream f("/proc/cpuinfo");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `tasks` tasks of `body` over the pool with progress and cancel polled by the caller:
// `done` is what the tasks have completed so far (hashes), reported as done_before + done.
void run_tasks(ThreadPool& pool, size_t tasks, const std::function<void(size_t)>& body,
               const std::atomic<uint64_t>& done, const sdk::Job& job, uint64_t done_before,
               uint64_t total, std::string_view phase, std::string_view call) {
  uint64_t reported = std::numeric_limits<uint64_t>::max();
  auto monitor = [&] {
    const uint64_t now = done_before + done.load(std::memory_order_relaxed);
    if (now != reported) {
      job.progress(now, total, phase);
      reported = now;
    }
    return !job.cancelled();
  };
  if (!pool.run(tasks, body, monitor)) {
    throw sdk::cancelled(std::string(call) + ": cancelled after " +
                         std::to_string(done_before + done.load()) + " of " +
                         std::to_string(total) + " hashes (the output is incomplete)");
  }
}

}  // namespace

std::string supported_arities_text() {
  std::string s;
  for (size_t a : poseidon::kSupportedArities) s += (s.empty() ? "" : ", ") + std::to_string(a);
  return s;
}

std::string cpu_model_from_cpuinfo(std::string_view cpuinfo) {
  size_t pos = 0;
  while (pos < cpuinfo.size()) {
    size_t end = cpuinfo.find('\n', pos);
    if (end == std::string_view::npos) end = cpuinfo.size();
    std::string_view line = cpuinfo.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) {
      v.remove_suffix(1);
    }
    if (!v.empty()) return std::string(v);
  }
  return "";
}

CpuCompute::CpuCompute(const sdk::Context& ctx)
    : CpuCompute(CpuOptions::parse(ctx.options), ctx.log) {}

CpuCompute::CpuCompute(const CpuOptions& options, sdk::Logger log)
    : log_(std::move(log)),
      batch_size_(std::max<size_t>(1, options.batch_size)),
      pool_(options.threads ? options.threads : ThreadPool::available_cpus()),
      memory_bytes_(physical_memory_bytes()) {
  std::string model = cpu_model_from_cpuinfo(read_cpuinfo());
  if (model.empty()) model = "unknown CPU";
  cpu_name_ = model + " (" + std::to_string(pool_.threads()) + " threads)";
  log_.info("compute on " + cpu_name_ + ", " + std::to_string(batch_size_) +
            " hashes per task, poseidon kernel " + poseidon::kernel_name() + ", sha256 " +
            proofs::sha256::implementation_name());
}

sdk::DeviceInfo CpuCompute::device_info() const {
  return {cpu_name_, "cpu", pool_.threads(), memory_bytes_};
}

void CpuCompute::poseidon_tasks(uint32_t arity, uint32_t tag, const uint8_t* in, uint8_t* out,
                                size_t count, std::string_view what, const sdk::Job& job,
                                uint64_t done_before, uint64_t total, std::string_view phase,
                                std::string_view call) {
  const size_t tasks = (count + batch_size_ - 1) / batch_size_;
  std::atomic<uint64_t> done{0};
  std::atomic<size_t> bad{kNoError};  // lowest non-canonical element index seen
  auto body = [&](size_t t) {
    const size_t begin = t * batch_size_;
    const size_t end = std::min(count, begin + batch_size_);
    // A task wholly above a known bad element cannot lower the index reported.
    if (begin * arity > bad.load(std::memory_order_relaxed)) return;
    std::vector<Fr> elems(kChunk * arity);
    std::vector<Fr> res(kChunk);
    for (size_t base = begin; base < end; base += kChunk) {
      const size_t m = std::min(kChunk, end - base);
      for (size_t i = 0; i < m * arity; ++i) {
        const size_t index = base * arity + i;
        auto f = Fr::from_bytes(in + kElem * index);
        if (!f) {
          record_min(bad, index);
          return;
        }
        elems[i] = *f;
      }
      if (tag == sdk::kTagMerkleTree) {
        poseidon::hash_batch(arity, elems.data(), res.data(), m);
      } else {
        for (size_t i = 0; i < m; ++i) {
          res[i] = poseidon::hash_constant_length(arity, {elems.data() + i * arity, arity});
        }
      }
      for (size_t i = 0; i < m; ++i) res[i].to_bytes(out + kElem * (base + i));
    }
    done.fetch_add(end - begin, std::memory_order_relaxed);
  };
  run_tasks(pool_, tasks, body, done, job, done_before, total, phase, call);
  if (const size_t index = bad.load(); index != kNoError) {
    throw sdk::invalid_argument(std::string(call) + ": " + std::string(what) + " " +
                                std::to_string(index) +
                                " is not a canonical field element (32-byte little-endian value "
                                ">= r; reduce it or mask the top bits as fr32 does)");
  }
}

void CpuCompute::poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs, uint8_t* out,
                                size_t n, const sdk::Job& job) {
  constexpr std::string_view kCall = "poseidon_batch";
  check_arity(arity, kCall);
  if (tag != sdk::kTagMerkleTree && tag != sdk::kTagConstantLength) {
    throw sdk::invalid_argument("poseidon_batch: tag " + std::to_string(tag) +
                                " is not a domain tag (use 0 for MerkleTree or 1 for "
                                "ConstantLength)");
  }
  const size_t in_bytes = n * arity * kElem;  // the SDK thunk checked the product
  std::vector<uint8_t> copy;
  if (overlaps(inputs, in_bytes, out, n * kElem)) {
    copy.assign(inputs, inputs + in_bytes);
    inputs = copy.data();
  }
  poseidon_tasks(arity, tag, inputs, out, n, "input element", job, 0, n, "poseidon", kCall);
  job.progress(n, n, "poseidon");
}

void CpuCompute::tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                            const sdk::Job& job) {
  constexpr std::string_view kCall = "tree_build";
  check_arity(arity, kCall);
  size_t width = n;
  size_t rows = 0;
  while (width > 1 && width % arity == 0) {
    width /= arity;
    ++rows;
  }
  if (n < arity || width != 1) {
    throw sdk::invalid_argument("tree_build: " + std::to_string(n) +
                                " leaves is not a power of arity " + std::to_string(arity) +
                                " (pass arity^k leaves, k >= 1; pad the data to a sector size)");
  }
  const uint64_t total = sdk::tree_rows_nodes(n, arity);
  std::vector<uint8_t> copy;
  if (overlaps(leaves, n * kElem, rows_out, total * kElem)) {
    copy.assign(leaves, leaves + n * kElem);
    leaves = copy.data();
  }
  const uint8_t* children = leaves;
  uint8_t* out = rows_out;
  uint64_t done = 0;
  width = n;
  for (size_t row = 1; row <= rows; ++row) {
    const size_t parents = width / arity;
    const std::string phase = "row " + std::to_string(row) + "/" + std::to_string(rows);
    // Only the leaves can be non-canonical: every higher row is Poseidon output.
    poseidon_tasks(arity, sdk::kTagMerkleTree, children, out, parents, "leaf", job, done, total,
                   phase, kCall);
    done += parents;
    children = out;
    out += parents * kElem;
    width = parents;
  }
  job.progress(total, total, "done");
}

void CpuCompute::sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n, const sdk::Job& job) {
  constexpr std::string_view kCall = "sha254_batch";
  std::vector<uint8_t> copy;
  if (overlaps(pairs, n * 2 * kElem, out, n * kElem)) {
    copy.assign(pairs, pairs + n * 2 * kElem);
    pairs = copy.data();
  }
  const size_t tasks = (n + batch_size_ - 1) / batch_size_;
  std::atomic<uint64_t> done{0};
  auto body = [&](size_t t) {
    const size_t begin = t * batch_size_;
    const size_t count = std::min(n, begin + batch_size_) - begin;
    proofs::sha256::sha254_nodes(pairs + 2 * kElem * begin, out + kElem * begin, count);
    done.fetch_add(count, std::memory_order_relaxed);
  };
  run_tasks(pool_, tasks, body, done, job, 0, n, "sha254", kCall);
  job.progress(n, n, "sha254");
}

}  // namespace sealhost::compute_cpu
