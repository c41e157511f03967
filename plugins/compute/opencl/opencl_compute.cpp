#include "plugins/compute/opencl/opencl_compute.hpp"

#include "proofs/field/fr.hpp"
#include "proofs/poseidon/poseidon.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <utility>
#include <vector>

namespace sealhost::compute_opencl {
namespace {

namespace poseidon = proofs::poseidon;
using proofs::field::Fr;
constexpr size_t kElem = sdk::kFieldElementBytes;
// Below this a limit cannot hold even a useful launch; anything real is far above.
constexpr uint64_t kMinMemoryLimit = uint64_t{1} << 20;
// r as little-endian u64 limbs (spec/poseidon.md §1).
constexpr std::array<uint64_t, 4> kModulus = {0xffffffff00000001ULL, 0x53bda402fffe5bfeULL,
                                              0x3339d80809a1d805ULL, 0x73eda753299d7d48ULL};

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

sdk::Error non_canonical(std::string_view call, std::string_view what, size_t index) {
  return sdk::invalid_argument(std::string(call) + ": " + std::string(what) + " " +
                               std::to_string(index) +
                               " is not a canonical field element (32-byte little-endian value "
                               ">= r; reduce it or mask the top bits as fr32 does)");
}

// Waits for the device to finish everything queued on `q` when leaving a scope, so no command
// touches a caller's buffer (or a buffer about to be released) after a call returns or throws.
class QueueDrain {
 public:
  explicit QueueDrain(cl_command_queue q) : q_(q) {}
  QueueDrain(const QueueDrain&) = delete;
  QueueDrain& operator=(const QueueDrain&) = delete;
  ~QueueDrain() { cl().clFinish(q_); }

 private:
  cl_command_queue q_;
};

Queue make_queue(const DeviceRuntime& rt) {
  cl_int st = CL_SUCCESS;
  Queue q(cl().clCreateCommandQueue(rt.context(), rt.device(), 0, &st));
  cl_check(st, "clCreateCommandQueue");
  return q;
}

Kernel make_kernel(cl_program program, const char* name) {
  cl_int st = CL_SUCCESS;
  Kernel k(cl().clCreateKernel(program, name, &st));
  cl_check(st, std::string("clCreateKernel(") + name + ")");
  return k;
}

Buffer make_buffer(const DeviceRuntime& rt, cl_mem_flags flags, size_t bytes,
                   std::string_view what) {
  cl_int st = CL_SUCCESS;
  Buffer b(cl().clCreateBuffer(rt.context(), flags, std::max<size_t>(bytes, 1), nullptr, &st));
  cl_check(st, "allocating " + std::to_string(bytes) + " bytes of device memory for " +
                   std::string(what));
  return b;
}

template <class T>
void set_arg(cl_kernel k, cl_uint index, const T& value) {
  cl_check(cl().clSetKernelArg(k, index, sizeof(T), &value), "clSetKernelArg");
}

// Arguments of poseidon.cl's poseidon_hash after the buffers.
void set_poseidon_args(cl_kernel k, cl_mem in, cl_mem out, cl_mem constants,
                       const std::array<cl_ulong, 4>& tag, cl_ulong in_first, cl_ulong out_first,
                       cl_ulong n) {
  set_arg(k, 0, in);
  set_arg(k, 1, out);
  set_arg(k, 2, constants);
  for (cl_uint i = 0; i < 4; ++i) set_arg(k, 3 + i, tag[i]);
  set_arg(k, 7, in_first);
  set_arg(k, 8, out_first);
  set_arg(k, 9, n);
}

std::array<cl_ulong, 4> montgomery_tag(const Fr& tag) {
  const auto limbs = poseidon::montgomery_limbs(std::span<const Fr>(&tag, 1));
  return {limbs[0], limbs[1], limbs[2], limbs[3]};
}

// One launch in flight: the event of its last command, the hashes it completes, its phase.
struct Launch {
  Event done;
  size_t hashes = 0;
  std::string phase;
};

}  // namespace

std::string supported_arities_text() {
  std::string s;
  for (size_t a : poseidon::kSupportedArities) s += (s.empty() ? "" : ", ") + std::to_string(a);
  return s;
}

size_t first_non_canonical(const uint8_t* p, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    std::array<uint64_t, 4> v{};
    std::memcpy(v.data(), p + kElem * i, kElem);  // little-endian host, checked by CMake
    for (int l = 3; l >= 0; --l) {
      if (v[l] != kModulus[l]) {
        if (v[l] > kModulus[l]) return i;
        break;
      }
      if (l == 0) return i;  // equal to r
    }
  }
  return count;
}

// Progress of one call in hashes, and the cancel poll that follows every report.
struct OpenClCompute::Progress {
  const sdk::Job& job;
  std::string_view call;
  uint64_t total;
  uint64_t done = 0;

  void report(std::string_view phase) const { job.progress(done, total, phase); }
  void check_cancel() const {
    if (job.cancelled()) {
      throw sdk::cancelled(std::string(call) + ": cancelled after " + std::to_string(done) +
                           " of " + std::to_string(total) + " hashes (the output is incomplete)");
    }
  }
};

namespace {

// Runs `launches` launches through `enqueue` with one launch queued ahead of the one being
// waited for, so the device never idles between them; after each finished launch, reports
// progress and polls cancel. The caller's QueueDrain finishes whatever is queued on a throw.
template <class Enqueue>
void run_pipelined(size_t launches, Enqueue&& enqueue, OpenClCompute::Progress& progress) {
  std::deque<Launch> pending;
  auto retire = [&] {
    Launch& l = pending.front();
    const cl_event ev = l.done.get();
    cl_check(cl().clWaitForEvents(1, &ev), "running " + l.phase + " on the device");
    progress.done += l.hashes;
    const std::string phase = std::move(l.phase);
    pending.pop_front();
    progress.report(phase);
    progress.check_cancel();
  };
  for (size_t k = 0; k < launches; ++k) {
    pending.push_back(enqueue(k));
    if (pending.size() > 1) retire();
  }
  while (!pending.empty()) retire();
}

}  // namespace

OpenClCompute::OpenClCompute(const sdk::Context& ctx)
    : OpenClCompute(OpenClOptions::parse(ctx.options), ctx.log) {}

OpenClCompute::OpenClCompute(const OpenClOptions& options, sdk::Logger log)
    : log_(std::move(log)),
      runtime_(&DeviceRuntime::get(select_device(options.platform, options.device))),
      batch_size_(options.batch_size ? options.batch_size
                                     : std::max<uint32_t>(1, runtime_->compute_units()) *
                                           (runtime_->is_cpu() ? kCpuHashesPerComputeUnit
                                                               : kGpuHashesPerComputeUnit)),
      memory_limit_(options.memory_limit ? options.memory_limit : runtime_->global_memory() / 2),
      local_size_(options.local_size),
      portable_field_(options.portable_field) {
  if (options.memory_limit != 0 && options.memory_limit < kMinMemoryLimit) {
    throw sdk::invalid_argument("option 'memory_limit' = " + std::to_string(options.memory_limit) +
                                " bytes is below 1 MiB (raise it, or 0 for half the device "
                                "memory)");
  }
  if (local_size_ > runtime_->max_work_group()) {
    throw sdk::invalid_argument("option 'local_size' = " + std::to_string(local_size_) +
                                " exceeds the device's work-group limit " +
                                std::to_string(runtime_->max_work_group()) + " on \"" +
                                runtime_->name() + "\" (lower it, or 0 for " +
                                std::to_string(kDefaultLocalSize) + ")");
  }
  // Build what a sealing pipeline needs at once, so a broken driver fails here and not halfway
  // through a sector: SHA254 (tree_d) and the tree arities 8 (tree_c / tree_r_last), 2 and 11
  // (column hashes). The other arities are built on first use. Programs are shared per process.
  runtime_->sha254();
  for (size_t arity : {size_t{8}, size_t{2}, size_t{11}}) {
    runtime_->poseidon(arity, portable_field_);
  }
  log_.info("compute on OpenCL device " + runtime_->name() + ", " +
            std::to_string(runtime_->compute_units()) + " compute units, " +
            std::to_string(batch_size_) + " hashes per launch, memory limit " +
            std::to_string(memory_limit_) + " bytes, " + field_kernel() + " Fr kernel");
}

size_t OpenClCompute::work_group(cl_kernel kernel, std::string_view what) const {
  size_t max = 0;
  cl_check(cl().clGetKernelWorkGroupInfo(kernel, runtime_->device(), CL_KERNEL_WORK_GROUP_SIZE,
                                         sizeof(max), &max, nullptr),
           "clGetKernelWorkGroupInfo (" + std::string(what) + ")");
  if (local_size_ == 0) {
    // A fixed size rather than the runtime's choice: POCL compiles a kernel anew for every
    // work-group size it meets, and lets the size follow the global size when left open.
    size_t local = 1;
    while (local * 2 <= std::min(kDefaultLocalSize, max)) local *= 2;
    return local;
  }
  if (local_size_ > max) {
    throw sdk::invalid_argument(
        "option 'local_size' = " + std::to_string(local_size_) + " exceeds the " +
        std::to_string(max) + " work-items " + std::string(what) + " allows on \"" +
        runtime_->name() + "\" (lower it, or 0 for " + std::to_string(kDefaultLocalSize) + ")");
  }
  return local_size_;
}

std::string OpenClCompute::field_kernel() const {
  return runtime_->poseidon(8, portable_field_).int128 ? "int128" : "portable";
}

sdk::DeviceInfo OpenClCompute::device_info() const {
  return {runtime_->name(), "opencl", std::max<uint32_t>(1, runtime_->compute_units()),
          runtime_->global_memory()};
}

namespace {

void launch(cl_command_queue q, cl_kernel k, size_t items, size_t local, cl_event* ev,
            std::string_view what) {
  const size_t global = (items + local - 1) / local * local;
  cl_check(cl().clEnqueueNDRangeKernel(q, k, 1, nullptr, &global, &local, 0, nullptr, ev),
           "launching " + std::string(what));
}

}  // namespace

void OpenClCompute::poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs,
                                   uint8_t* out, size_t n, const sdk::Job& job) {
  constexpr std::string_view kCall = "poseidon_batch";
  check_arity(arity, kCall);
  if (tag != sdk::kTagMerkleTree && tag != sdk::kTagConstantLength) {
    throw sdk::invalid_argument("poseidon_batch: tag " + std::to_string(tag) +
                                " is not a domain tag (use 0 for MerkleTree or 1 for "
                                "ConstantLength)");
  }
  Progress progress{job, kCall, n};
  progress.check_cancel();
  if (n == 0) {
    progress.report("poseidon");
    return;
  }
  const size_t in_bytes = n * arity * kElem;  // the SDK thunk checked the product
  if (const size_t bad = first_non_canonical(inputs, n * arity); bad != n * arity) {
    throw non_canonical(kCall, "input element", bad);
  }
  std::vector<uint8_t> copy;
  if (overlaps(inputs, in_bytes, out, n * kElem)) {
    copy.assign(inputs, inputs + in_bytes);
    inputs = copy.data();
  }
  const auto program = runtime_->poseidon(arity, portable_field_);
  const auto tag_limbs =
      montgomery_tag(tag == sdk::kTagMerkleTree ? poseidon::merkle_tree_tag(arity)
                                                : poseidon::constant_length_tag(arity));
  // Two launches in flight, each with its own input and output buffers.
  const size_t per_hash = (arity + 1) * kElem;
  const size_t batch = std::max<size_t>(
      1, std::min({batch_size_, n, static_cast<size_t>(memory_limit_ / (2 * per_hash)),
                   static_cast<size_t>(runtime_->max_allocation() / (arity * kElem))}));
  std::array<Buffer, 2> in_buf, out_buf;
  for (auto& b : in_buf) b = make_buffer(*runtime_, CL_MEM_READ_ONLY, batch * arity * kElem, kCall);
  for (auto& b : out_buf) b = make_buffer(*runtime_, CL_MEM_WRITE_ONLY, batch * kElem, kCall);
  Queue queue = make_queue(*runtime_);
  Kernel kernel = make_kernel(program.program, "poseidon_hash");
  QueueDrain drain(queue.get());
  const std::string what = "poseidon arity " + std::to_string(arity);
  const size_t local = work_group(kernel.get(), what);
  auto enqueue = [&](size_t k) {
    const size_t first = k * batch;
    const size_t m = std::min(batch, n - first);
    const size_t slot = k % 2;
    cl_check(
        cl().clEnqueueWriteBuffer(queue.get(), in_buf[slot].get(), CL_FALSE, 0, m * arity * kElem,
                                  inputs + first * arity * kElem, 0, nullptr, nullptr),
        "copying " + what + " inputs to the device");
    set_poseidon_args(kernel.get(), in_buf[slot].get(), out_buf[slot].get(), program.constants,
                      tag_limbs, 0, 0, m);
    launch(queue.get(), kernel.get(), m, local, nullptr, what);
    cl_event ev = nullptr;
    cl_check(cl().clEnqueueReadBuffer(queue.get(), out_buf[slot].get(), CL_FALSE, 0, m * kElem,
                                      out + first * kElem, 0, nullptr, &ev),
             "copying " + what + " results from the device");
    cl_check(cl().clFlush(queue.get()), "clFlush");
    return Launch{Event(ev), m, "poseidon"};
  };
  run_pipelined((n + batch - 1) / batch, enqueue, progress);
  progress.report("poseidon");
}

size_t OpenClCompute::tree_chunk_leaves(uint32_t arity, size_t n) const {
  check_arity(arity, "tree_build");
  if (arity < 2) throw sdk::invalid_argument("tree_build: arity must be at least 2");
  auto fits = [&](size_t leaves) {
    const uint64_t rows = sdk::tree_rows_nodes(leaves, arity);
    return (leaves + rows) * kElem <= memory_limit_ &&
           leaves * kElem <= runtime_->max_allocation() &&
           rows * kElem <= runtime_->max_allocation();
  };
  size_t chunk = n;
  while (chunk > arity && !fits(chunk)) chunk /= arity;
  if (!fits(chunk)) {
    throw sdk::exhausted("tree_build: memory_limit " + std::to_string(memory_limit_) +
                         " bytes cannot hold " + std::to_string(chunk) + " leaves of arity " +
                         std::to_string(arity) + " (raise memory_limit)");
  }
  return chunk;
}

void OpenClCompute::tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                               const sdk::Job& job) {
  constexpr std::string_view kCall = "tree_build";
  check_arity(arity, kCall);
  size_t width = n;
  while (width > 1 && width % arity == 0) width /= arity;
  if (n < arity || width != 1) {
    throw sdk::invalid_argument("tree_build: " + std::to_string(n) +
                                " leaves is not a power of arity " + std::to_string(arity) +
                                " (pass arity^k leaves, k >= 1; pad the data to a sector size)");
  }
  const uint64_t total = sdk::tree_rows_nodes(n, arity);
  Progress progress{job, kCall, total};
  progress.check_cancel();
  // Only the leaves can be non-canonical: every higher row is Poseidon output.
  if (const size_t bad = first_non_canonical(leaves, n); bad != n) {
    throw non_canonical(kCall, "leaf", bad);
  }
  std::vector<uint8_t> copy;
  if (overlaps(leaves, n * kElem, rows_out, total * kElem)) {
    copy.assign(leaves, leaves + n * kElem);
    leaves = copy.data();
  }
  build_rows(arity, leaves, n, rows_out, progress);
  progress.report("done");
}

// Builds the rows above `n` leaves into rows_out (host memory). When the whole tree fits the
// memory limit, the leaves go to the device once, every row is hashed there from the row below,
// and the rows come back at the end. Otherwise sub-trees of tree_chunk_leaves() leaves are built
// that way one after the other, and the rows above their roots by a recursive call.
void OpenClCompute::build_rows(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                               Progress& progress) {
  const size_t chunk = tree_chunk_leaves(arity, n);
  const size_t subtrees = n / chunk;
  // Row r (1 = above the leaves) of a sub-tree: width, offset inside the sub-tree's row buffer,
  // and offset of the full tree's row r inside rows_out (in nodes).
  std::vector<size_t> widths, chunk_off, tree_off;
  for (size_t w = chunk / arity, co = 0, to = 0, tw = n / arity; w >= 1; w /= arity, tw /= arity) {
    widths.push_back(w);
    chunk_off.push_back(co);
    tree_off.push_back(to);
    co += w;
    to += tw;
    if (w == 1) break;
  }
  const size_t rows = widths.size();
  const size_t chunk_rows = chunk_off.back() + 1;
  const auto program = runtime_->poseidon(arity, portable_field_);
  const auto tag_limbs = montgomery_tag(poseidon::merkle_tree_tag(arity));
  Buffer leaf_buf = make_buffer(*runtime_, CL_MEM_READ_ONLY, chunk * kElem, "tree_build leaves");
  Buffer row_buf = make_buffer(*runtime_, CL_MEM_READ_WRITE, chunk_rows * kElem, "tree_build rows");
  Queue queue = make_queue(*runtime_);
  Kernel kernel = make_kernel(program.program, "poseidon_hash");
  QueueDrain drain(queue.get());
  const std::string what = "poseidon arity " + std::to_string(arity) + " tree rows";
  const size_t local = work_group(kernel.get(), what);

  // Launches of one sub-tree: each row in pieces of at most batch_size_ parents.
  struct Piece {
    size_t row, first, count;
  };
  std::vector<Piece> pieces;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t first = 0; first < widths[r]; first += batch_size_) {
      pieces.push_back({r, first, std::min(batch_size_, widths[r] - first)});
    }
  }
  for (size_t s = 0; s < subtrees; ++s) {
    cl_check(cl().clEnqueueWriteBuffer(queue.get(), leaf_buf.get(), CL_FALSE, 0, chunk * kElem,
                                       leaves + s * chunk * kElem, 0, nullptr, nullptr),
             "copying tree leaves to the device");
    auto enqueue = [&](size_t k) {
      const Piece& p = pieces[k];
      const bool from_leaves = p.row == 0;
      set_poseidon_args(kernel.get(), from_leaves ? leaf_buf.get() : row_buf.get(), row_buf.get(),
                        program.constants, tag_limbs,
                        (from_leaves ? 0 : chunk_off[p.row - 1]) + p.first * arity,
                        chunk_off[p.row] + p.first, p.count);
      cl_event ev = nullptr;
      launch(queue.get(), kernel.get(), p.count, local, &ev, what);
      cl_check(cl().clFlush(queue.get()), "clFlush");
      std::string phase = "row " + std::to_string(p.row + 1) + "/" + std::to_string(rows);
      if (subtrees > 1) {
        phase += " (sub-tree " + std::to_string(s + 1) + "/" + std::to_string(subtrees) + ")";
      }
      return Launch{Event(ev), p.count, std::move(phase)};
    };
    run_pipelined(pieces.size(), enqueue, progress);
    for (size_t r = 0; r < rows; ++r) {
      cl_check(cl().clEnqueueReadBuffer(
                   queue.get(), row_buf.get(), r + 1 == rows ? CL_TRUE : CL_FALSE,
                   chunk_off[r] * kElem, widths[r] * kElem,
                   rows_out + (tree_off[r] + s * widths[r]) * kElem, 0, nullptr, nullptr),
               "copying tree rows from the device");
    }
  }
  if (subtrees > 1) {
    // The sub-tree roots are row `rows` of the full tree; hash the rows above them.
    const size_t above = tree_off.back() + subtrees;
    build_rows(arity, rows_out + tree_off.back() * kElem, subtrees, rows_out + above * kElem,
               progress);
  }
}

void OpenClCompute::sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n,
                                 const sdk::Job& job) {
  constexpr std::string_view kCall = "sha254_batch";
  Progress progress{job, kCall, n};
  progress.check_cancel();
  if (n == 0) {
    progress.report("sha254");
    return;
  }
  std::vector<uint8_t> copy;
  if (overlaps(pairs, n * 2 * kElem, out, n * kElem)) {
    copy.assign(pairs, pairs + n * 2 * kElem);
    pairs = copy.data();
  }
  const cl_program program = runtime_->sha254();
  const size_t per_hash = 3 * kElem;
  const size_t batch = std::max<size_t>(
      1, std::min({batch_size_ * 8, n, static_cast<size_t>(memory_limit_ / (2 * per_hash)),
                   static_cast<size_t>(runtime_->max_allocation() / (2 * kElem))}));
  std::array<Buffer, 2> in_buf, out_buf;
  for (auto& b : in_buf) b = make_buffer(*runtime_, CL_MEM_READ_ONLY, batch * 2 * kElem, kCall);
  for (auto& b : out_buf) b = make_buffer(*runtime_, CL_MEM_WRITE_ONLY, batch * kElem, kCall);
  Queue queue = make_queue(*runtime_);
  Kernel kernel = make_kernel(program, "sha254_nodes");
  QueueDrain drain(queue.get());
  const size_t local = work_group(kernel.get(), "sha254");
  auto enqueue = [&](size_t k) {
    const size_t first = k * batch;
    const size_t m = std::min(batch, n - first);
    const size_t slot = k % 2;
    cl_check(cl().clEnqueueWriteBuffer(queue.get(), in_buf[slot].get(), CL_FALSE, 0, m * 2 * kElem,
                                       pairs + first * 2 * kElem, 0, nullptr, nullptr),
             "copying sha254 pairs to the device");
    set_arg(kernel.get(), 0, in_buf[slot].get());
    set_arg(kernel.get(), 1, out_buf[slot].get());
    set_arg(kernel.get(), 2, static_cast<cl_ulong>(m));
    launch(queue.get(), kernel.get(), m, local, nullptr, "sha254");
    cl_event ev = nullptr;
    cl_check(cl().clEnqueueReadBuffer(queue.get(), out_buf[slot].get(), CL_FALSE, 0, m * kElem,
                                      out + first * kElem, 0, nullptr, &ev),
             "copying sha254 results from the device");
    cl_check(cl().clFlush(queue.get()), "clFlush");
    return Launch{Event(ev), m, "sha254"};
  };
  run_pipelined((n + batch - 1) / batch, enqueue, progress);
  progress.report("sha254");
}

}  // namespace sealhost::compute_opencl
