#include "plugins/compute/vulkan/vulkan_compute.hpp"

#include "poseidon_spirv.hpp"
#include "proofs/field/fr.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "sha254_spirv.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <vector>

namespace sealhost::compute_vulkan {

namespace poseidon = proofs::poseidon;
using proofs::field::Fr;
constexpr size_t kElem = sdk::kFieldElementBytes;
constexpr uint32_t kWordsPerElem = kElem / 4;
constexpr uint32_t kNoError = 0xffffffffu;
// Constants of every arity together are < 1 MiB; the status word is 4 bytes.
constexpr uint64_t kReservedBytes = uint64_t{2} << 20;
constexpr uint64_t kMaxStagingBytes = uint64_t{32} << 20;
constexpr uint64_t kMinWorkBytes = uint64_t{1} << 20;

struct PoseidonPush {
  uint32_t in_word;
  uint32_t out_word;
  uint32_t count;
  uint32_t first_element;
  uint32_t tag[8];
};
struct ShaPush {
  uint32_t in_word;
  uint32_t out_word;
  uint32_t count;
};

// Submissions in flight with the hashes each one completes: progress is reported, and cancel
// polled, as each finishes (oldest first). Steps must not be mixed with VulkanContext::run_now
// while any is in flight: drain() first.
class Runner {
 public:
  Runner(VulkanContext& ctx, const sdk::Job& job, uint64_t total, std::string_view call)
      : ctx_(ctx), job_(job), total_(total), call_(call) {}
  ~Runner() {
    try {
      ctx_.wait_all();
    } catch (...) {  // a lost device: the call already failed
    }
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  template <class Record>
  void step(Record&& record, uint64_t hashes, const std::string& phase) {
    if (queue_.size() == ctx_.ring_size()) retire();
    Submission& s = ctx_.begin();
    record(s.cb);
    ctx_.submit(s);
    queue_.push_back({&s, hashes, phase});
  }
  // A job cancelled before the call does no work at all.
  void check_cancel() const {
    if (job_.cancelled()) cancelled();
  }
  void drain() {
    while (!queue_.empty()) retire();
  }
  void finish(const std::string& phase) {
    drain();
    job_.progress(total_, total_, phase);
  }
  uint64_t done() const { return done_; }
  uint64_t total() const { return total_; }

 private:
  struct Pending {
    Submission* s;
    uint64_t hashes;
    std::string phase;
  };

  void retire() {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    ctx_.wait(*p.s);
    done_ += p.hashes;
    job_.progress(done_, total_, p.phase);
    if (done_ < total_ && job_.cancelled()) {
      ctx_.wait_all();
      queue_.clear();
      cancelled();
    }
  }
  [[noreturn]] void cancelled() const {
    throw sdk::cancelled(std::string(call_) + ": cancelled after " + std::to_string(done_) +
                         " of " + std::to_string(total_) + " hashes (the output is incomplete)");
  }

  VulkanContext& ctx_;
  const sdk::Job& job_;
  uint64_t total_;
  std::string_view call_;
  uint64_t done_ = 0;
  std::deque<Pending> queue_;
};

namespace {

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

std::array<uint32_t, 8> words_of(const Fr& f) {
  const std::vector<uint64_t> limbs = poseidon::montgomery_limbs(std::span<const Fr>(&f, 1));
  std::array<uint32_t, 8> w{};
  for (size_t i = 0; i < 4; ++i) {
    w[2 * i] = static_cast<uint32_t>(limbs[i]);
    w[2 * i + 1] = static_cast<uint32_t>(limbs[i] >> 32);
  }
  return w;
}

[[noreturn]] void non_canonical(std::string_view call, std::string_view what, uint64_t index) {
  throw sdk::invalid_argument(std::string(call) + ": " + std::string(what) + " " +
                              std::to_string(index) +
                              " is not a canonical field element (32-byte little-endian value "
                              ">= r; reduce it or mask the top bits as fr32 does)");
}

// Rows above n = arity^k leaves: k, or 0 when n is not such a power (k >= 1).
size_t tree_height(size_t n, size_t arity) {
  size_t width = n, rows = 0;
  while (width > 1 && width % arity == 0) {
    width /= arity;
    ++rows;
  }
  return n >= arity && width == 1 ? rows : 0;
}

uint64_t tree_bytes(uint64_t leaves, uint64_t arity) {
  return (leaves + sdk::tree_rows_nodes(leaves, arity)) * kElem;
}

std::string mib(uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

std::string supported_arities_text() {
  std::string s;
  for (size_t a : poseidon::kSupportedArities) s += (s.empty() ? "" : ", ") + std::to_string(a);
  return s;
}

VulkanCompute::VulkanCompute(const sdk::Context& ctx)
    : VulkanCompute(VulkanOptions::parse(ctx.options), ctx.log) {}

VulkanCompute::VulkanCompute(const VulkanOptions& options, sdk::Logger log)
    // Options are checked before the driver is touched, so a typo is reported as such even on a
    // machine without a device.
    : log_(std::move(log)), batch_((options.validate(), options.batch)), ctx_(options.device) {
  const auto& pd = ctx_.physical();
  // Host-mapped work buffers where device memory is host memory anyway (CPU drivers, integrated
  // GPUs); discrete GPUs get device-local buffers filled through a staging buffer.
  mapped_ =
      pd.type == VK_PHYSICAL_DEVICE_TYPE_CPU || pd.type == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
  if (mapped_) {
    const auto& mem = ctx_.memory();
    bool any = false;
    for (uint32_t i = 0; i < mem.memoryTypeCount; ++i) {
      const auto want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
      any = any || (mem.memoryTypes[i].propertyFlags & want) == want;
    }
    mapped_ = any;
  }
  if (options.force_staging) mapped_ = false;
  if (batch_ == kAutoBatch)
    batch_ = pd.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? kCpuDriverBatch : kGpuBatch;
  uint64_t limit = options.memory_limit;
  if (limit == 0) limit = std::max<uint64_t>(pd.device_local_bytes / 2, kMinMemoryLimit);
  const uint64_t staging = mapped_ ? 0 : std::min(kMaxStagingBytes, limit / 8);
  capacity_ = std::min<uint64_t>(
      {limit - kReservedBytes - staging, ctx_.max_storage_range(), ctx_.max_allocation()});
  capacity_ &= ~uint64_t{255};
  max_groups_ = std::max(1u, ctx_.properties().limits.maxComputeWorkGroupCount[0]);

  if (!mapped_) {
    staging_ =
        Buffer(ctx_, staging, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
               std::array<VkMemoryPropertyFlags, 2>{
                   VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                       VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                   VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT},
               "staging buffer");
  }
  status_ = make_buffer(256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, "status buffer");
  log_.info("compute on " + pd.name + " (Vulkan device " + std::to_string(pd.index) +
            (ctx_.driver().empty() ? "" : ", " + ctx_.driver()) + "), " +
            std::to_string(ctx_.compute_units()) + " compute units, work buffer up to " +
            mib(capacity_) +
            (mapped_ ? " host-mapped" : " device-local via " + mib(staging) + " staging") + ", " +
            std::to_string(batch_) + " hashes per submission");
}

VulkanCompute::~VulkanCompute() = default;

void VulkanCompute::limit_work_capacity(uint64_t bytes) {
  std::lock_guard lock(mu_);
  capacity_ = std::min(capacity_, std::max<uint64_t>(bytes, 256) & ~uint64_t{255});
  if (work_ && work_.size() > capacity_) work_ = Buffer();
  bind_all();
}

sdk::DeviceInfo VulkanCompute::device_info() const {
  const auto& pd = ctx_.physical();
  return {pd.name, "vulkan", ctx_.compute_units(), pd.device_local_bytes};
}

Buffer VulkanCompute::make_buffer(VkDeviceSize size, VkBufferUsageFlags usage,
                                  const std::string& what) const {
  usage |= VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  constexpr VkMemoryPropertyFlags kHost =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  if (mapped_) {
    return Buffer(
        ctx_, size, usage,
        std::array<VkMemoryPropertyFlags, 2>{VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | kHost, kHost},
        what);
  }
  // Device-local only; were it also host-visible we would not map it (see mapped_), so a later
  // fallback to host memory the device reads over the bus is still staged the same way.
  Buffer b(ctx_, size, usage,
           std::array<VkMemoryPropertyFlags, 2>{VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, kHost}, what);
  return b;
}

void VulkanCompute::upload(const Buffer& dst, VkDeviceSize offset, const uint8_t* src,
                           size_t bytes) {
  if (mapped_) {
    std::memcpy(dst.mapped() + offset, src, bytes);
    return;
  }
  for (size_t done = 0; done < bytes;) {
    const size_t m = std::min<size_t>(bytes - done, staging_.size());
    std::memcpy(staging_.mapped(), src + done, m);
    ctx_.run_now([&](VkCommandBuffer cb) {
      const VkBufferCopy region{0, offset + done, m};
      vkCmdCopyBuffer(cb, staging_.handle(), dst.handle(), 1, &region);
      full_barrier(cb);
    });
    done += m;
  }
}

void VulkanCompute::download(const Buffer& src, VkDeviceSize offset, uint8_t* dst, size_t bytes) {
  if (mapped_) {
    std::memcpy(dst, src.mapped() + offset, bytes);
    return;
  }
  for (size_t done = 0; done < bytes;) {
    const size_t m = std::min<size_t>(bytes - done, staging_.size());
    ctx_.run_now([&](VkCommandBuffer cb) {
      const VkBufferCopy region{offset + done, 0, m};
      vkCmdCopyBuffer(cb, src.handle(), staging_.handle(), 1, &region);
      full_barrier(cb);
    });
    std::memcpy(dst + done, staging_.mapped(), m);
    done += m;
  }
}

void VulkanCompute::reset_status() {
  ctx_.run_now([&](VkCommandBuffer cb) {
    vkCmdFillBuffer(cb, status_.handle(), 0, 4, kNoError);
    full_barrier(cb);
  });
}

uint32_t VulkanCompute::read_status() {
  uint32_t v = 0;
  download(status_, 0, reinterpret_cast<uint8_t*>(&v), sizeof v);
  return v;
}

void VulkanCompute::bind_all() {
  if (!work_) return;
  for (auto& [arity, k] : kernels_) {
    const std::array<VkBuffer, 3> b{work_.handle(), k.constants.handle(), status_.handle()};
    k.pipeline->bind(b);
  }
  if (sha_) {
    const std::array<VkBuffer, 1> b{work_.handle()};
    sha_->bind(b);
  }
}

void VulkanCompute::ensure_work(uint64_t bytes) {
  if (work_ && work_.size() >= bytes) return;
  // Grow geometrically so a run of slightly larger calls does not reallocate every time.
  uint64_t size = std::max<uint64_t>(kMinWorkBytes, work_ ? work_.size() : 0);
  while (size < bytes) size *= 2;
  size = std::min(size, capacity_);
  work_ = Buffer();  // free the old one first: the limit counts both otherwise
  work_ = make_buffer(size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, "work buffer");
  bind_all();
}

VulkanCompute::ArityKernel& VulkanCompute::kernel(uint32_t arity) {
  if (auto it = kernels_.find(arity); it != kernels_.end()) return it->second;
  const poseidon::Constants& c = poseidon::constants(arity);
  std::vector<Fr> all;
  all.reserve(c.compressed_round_constants.size() + 2 * c.mds.size() + c.sparse.size());
  all.insert(all.end(), c.compressed_round_constants.begin(), c.compressed_round_constants.end());
  all.insert(all.end(), c.mds.begin(), c.mds.end());
  all.insert(all.end(), c.pre_sparse.begin(), c.pre_sparse.end());
  all.insert(all.end(), c.sparse.begin(), c.sparse.end());
  if (c.compressed_round_constants.size() != c.full_rounds * c.width + c.partial_rounds ||
      c.sparse.size() != c.partial_rounds * c.sparse_stride()) {
    throw sdk::Error(SEALHOST_E_INTERNAL, "poseidon arity " + std::to_string(arity) +
                                              ": constants do not have the layout the shader "
                                              "reads (rebuild against matching proofs/poseidon)");
  }
  const std::vector<uint64_t> limbs = poseidon::montgomery_limbs(all);
  ArityKernel k;
  const std::string what = "poseidon arity " + std::to_string(arity);
  k.constants = make_buffer(limbs.size() * sizeof(uint64_t), VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                            what + " constants");
  // Little-endian u64 limbs are the shader's u32 words, low half first.
  upload(k.constants, 0, reinterpret_cast<const uint8_t*>(limbs.data()),
         limbs.size() * sizeof(uint64_t));
  const std::array<uint32_t, 4> spec{kLocalSize, static_cast<uint32_t>(c.width),
                                     static_cast<uint32_t>(c.partial_rounds),
                                     static_cast<uint32_t>(c.full_rounds)};
  k.pipeline = std::make_unique<ComputePipeline>(ctx_, spirv::k_poseidon, 3, sizeof(PoseidonPush),
                                                 spec, what + " pipeline");
  k.tag_merkle = words_of(poseidon::merkle_tree_tag(arity));
  k.tag_constant_length = words_of(poseidon::constant_length_tag(arity));
  auto& slot = kernels_.emplace(arity, std::move(k)).first->second;
  if (work_) {
    const std::array<VkBuffer, 3> b{work_.handle(), slot.constants.handle(), status_.handle()};
    slot.pipeline->bind(b);
  }
  log_.debug(what + ": pipeline created");
  return slot;
}

ComputePipeline& VulkanCompute::sha_pipeline() {
  if (!sha_) {
    const std::array<uint32_t, 1> spec{kLocalSize};
    sha_ = std::make_unique<ComputePipeline>(ctx_, spirv::k_sha254, 1, sizeof(ShaPush), spec,
                                             "sha254 pipeline");
    if (work_) {
      const std::array<VkBuffer, 1> b{work_.handle()};
      sha_->bind(b);
    }
  }
  return *sha_;
}

void VulkanCompute::record_poseidon(VkCommandBuffer cb, uint32_t arity, const ArityKernel& k,
                                    const std::array<uint32_t, 8>& tag, uint64_t in_word,
                                    uint64_t out_word, uint64_t count,
                                    uint64_t first_element) const {
  k.pipeline->record(cb);
  const uint64_t per_dispatch = uint64_t{max_groups_} * kLocalSize;
  for (uint64_t off = 0; off < count; off += per_dispatch) {
    const uint64_t m = std::min(per_dispatch, count - off);
    PoseidonPush p{};
    // Word offsets stay below 2^30: the work buffer is at most maxStorageBufferRange < 4 GiB.
    p.in_word = static_cast<uint32_t>(in_word + off * arity * kWordsPerElem);
    p.out_word = static_cast<uint32_t>(out_word + off * kWordsPerElem);
    p.count = static_cast<uint32_t>(m);
    p.first_element = static_cast<uint32_t>(first_element + off * arity);
    std::copy(tag.begin(), tag.end(), p.tag);
    vkCmdPushConstants(cb, k.pipeline->layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof p, &p);
    vkCmdDispatch(cb, static_cast<uint32_t>((m + kLocalSize - 1) / kLocalSize), 1, 1);
  }
  full_barrier(cb);
}

void VulkanCompute::record_sha(VkCommandBuffer cb, uint64_t in_word, uint64_t out_word,
                               uint64_t count) const {
  sha_->record(cb);
  const uint64_t per_dispatch = uint64_t{max_groups_} * kLocalSize;
  for (uint64_t off = 0; off < count; off += per_dispatch) {
    const uint64_t m = std::min(per_dispatch, count - off);
    ShaPush p{static_cast<uint32_t>(in_word + off * 2 * kWordsPerElem),
              static_cast<uint32_t>(out_word + off * kWordsPerElem), static_cast<uint32_t>(m)};
    vkCmdPushConstants(cb, sha_->layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof p, &p);
    vkCmdDispatch(cb, static_cast<uint32_t>((m + kLocalSize - 1) / kLocalSize), 1, 1);
  }
  full_barrier(cb);
}

void VulkanCompute::poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs,
                                   uint8_t* out, size_t n, const sdk::Job& job) {
  constexpr std::string_view kCall = "poseidon_batch";
  check_arity(arity, kCall);
  if (tag != sdk::kTagMerkleTree && tag != sdk::kTagConstantLength) {
    throw sdk::invalid_argument("poseidon_batch: tag " + std::to_string(tag) +
                                " is not a domain tag (use 0 for MerkleTree or 1 for "
                                "ConstantLength)");
  }
  std::lock_guard lock(mu_);
  Runner run(ctx_, job, n, kCall);
  if (n == 0) {
    run.finish("poseidon");
    return;
  }
  run.check_cancel();
  const size_t in_bytes = n * arity * kElem;  // the SDK thunk checked the product
  std::vector<uint8_t> copy;
  if (overlaps(inputs, in_bytes, out, n * kElem)) {
    copy.assign(inputs, inputs + in_bytes);
    inputs = copy.data();
  }
  ArityKernel& k = kernel(arity);
  const auto& tag_words = tag == sdk::kTagMerkleTree ? k.tag_merkle : k.tag_constant_length;
  const uint64_t per_hash = (uint64_t{arity} + 1) * kElem;
  const uint64_t chunk = std::min<uint64_t>(n, capacity_ / per_hash);
  if (chunk == 0) {
    throw sdk::exhausted("poseidon_batch: one arity-" + std::to_string(arity) +
                         " hash does not fit the " + std::to_string(capacity_) +
                         "-byte work buffer (raise memory_limit)");
  }
  ensure_work(chunk * per_hash);
  for (uint64_t base = 0; base < n; base += chunk) {
    const uint64_t m = std::min<uint64_t>(chunk, n - base);
    const uint64_t out_offset = m * arity * kElem;
    upload(work_, 0, inputs + base * arity * kElem, m * arity * kElem);
    reset_status();
    for (uint64_t b = 0; b < m; b += batch_) {
      const uint64_t count = std::min<uint64_t>(batch_, m - b);
      run.step(
          [&](VkCommandBuffer cb) {
            record_poseidon(cb, arity, k, tag_words, b * arity * kWordsPerElem,
                            out_offset / 4 + b * kWordsPerElem, count, b * arity);
          },
          count, "poseidon");
    }
    run.drain();
    if (const uint32_t bad = read_status(); bad != kNoError) {
      non_canonical(kCall, "input element", base * arity + bad);
    }
    download(work_, out_offset, out + base * kElem, m * kElem);
  }
  run.finish("poseidon");
}

void VulkanCompute::build_on_device(uint32_t arity, const uint8_t* leaves, size_t n,
                                    uint64_t leaf_base,
                                    const std::function<uint8_t*(size_t row)>& row_dst,
                                    Runner& run) {
  ArityKernel& k = kernel(arity);
  const size_t rows = tree_height(n, arity);
  ensure_work(tree_bytes(n, arity));
  upload(work_, 0, leaves, n * kElem);
  reset_status();
  uint64_t child = 0;  // element offset of the row being hashed
  uint64_t width = n;
  std::vector<std::pair<uint64_t, uint64_t>> row_at;  // (element offset, nodes) of rows 1..k
  for (size_t row = 1; row <= rows; ++row) {
    const uint64_t parents = width / arity;
    const uint64_t parent = child + width;
    const std::string phase = "row " + std::to_string(row) + "/" + std::to_string(rows);
    for (uint64_t b = 0; b < parents; b += batch_) {
      const uint64_t count = std::min<uint64_t>(batch_, parents - b);
      run.step(
          [&](VkCommandBuffer cb) {
            record_poseidon(cb, arity, k, k.tag_merkle, (child + b * arity) * kWordsPerElem,
                            (parent + b) * kWordsPerElem, count, child + b * arity);
          },
          count, phase);
    }
    row_at.emplace_back(parent, parents);
    child = parent;
    width = parents;
  }
  run.drain();
  // Only the leaves can be non-canonical (first_element of row 1 is the leaf index); every higher
  // row is Poseidon output.
  if (const uint32_t bad = read_status(); bad != kNoError) {
    non_canonical("tree_build", "leaf", leaf_base + bad);
  }
  for (size_t row = 1; row <= rows; ++row) {
    const auto [offset, nodes] = row_at[row - 1];
    download(work_, offset * kElem, row_dst(row), nodes * kElem);
  }
}

void VulkanCompute::build_rows(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                               uint64_t leaf_base, Runner& run) {
  const size_t rows = tree_height(n, arity);
  // Node offset of row r (1-based) in rows_out.
  auto row_offset = [&](size_t row) {
    uint64_t off = 0, w = n;
    for (size_t r = 1; r < row; ++r) {
      w /= arity;
      off += w;
    }
    return off;
  };
  if (tree_bytes(n, arity) <= capacity_) {
    build_on_device(
        arity, leaves, n, leaf_base, [&](size_t row) { return rows_out + row_offset(row) * kElem; },
        run);
    return;
  }
  // Subtrees of arity^j leaves, the largest that fit; then the tree over their roots.
  size_t j = 1;
  uint64_t sub = arity;
  while (j + 1 < rows && tree_bytes(sub * arity, arity) <= capacity_) {
    sub *= arity;
    ++j;
  }
  if (tree_bytes(sub, arity) > capacity_) {
    throw sdk::exhausted("tree_build: a subtree of " + std::to_string(sub) + " arity-" +
                         std::to_string(arity) + " leaves does not fit the " +
                         std::to_string(capacity_) + "-byte work buffer (raise memory_limit)");
  }
  const uint64_t subtrees = n / sub;
  for (uint64_t s = 0; s < subtrees; ++s) {
    build_on_device(
        arity, leaves + s * sub * kElem, sub, leaf_base + s * sub,
        [&](size_t row) {
          uint64_t nodes = sub;
          for (size_t r = 0; r < row; ++r) nodes /= arity;
          return rows_out + (row_offset(row) + s * nodes) * kElem;
        },
        run);
  }
  // Row j holds the subtree roots: the leaves of the rows above (never non-canonical).
  build_rows(arity, rows_out + row_offset(j) * kElem, subtrees,
             rows_out + row_offset(j + 1) * kElem, 0, run);
}

void VulkanCompute::tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                               const sdk::Job& job) {
  constexpr std::string_view kCall = "tree_build";
  check_arity(arity, kCall);
  if (tree_height(n, arity) == 0) {
    throw sdk::invalid_argument("tree_build: " + std::to_string(n) +
                                " leaves is not a power of arity " + std::to_string(arity) +
                                " (pass arity^k leaves, k >= 1; pad the data to a sector size)");
  }
  const uint64_t total = sdk::tree_rows_nodes(n, arity);
  std::lock_guard lock(mu_);
  Runner run(ctx_, job, total, kCall);
  run.check_cancel();
  std::vector<uint8_t> copy;
  if (overlaps(leaves, n * kElem, rows_out, total * kElem)) {
    copy.assign(leaves, leaves + n * kElem);
    leaves = copy.data();
  }
  build_rows(arity, leaves, n, rows_out, 0, run);
  run.finish("done");
}

void VulkanCompute::sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n,
                                 const sdk::Job& job) {
  constexpr std::string_view kCall = "sha254_batch";
  std::lock_guard lock(mu_);
  Runner run(ctx_, job, n, kCall);
  if (n == 0) {
    run.finish("sha254");
    return;
  }
  run.check_cancel();
  std::vector<uint8_t> copy;
  if (overlaps(pairs, n * 2 * kElem, out, n * kElem)) {
    copy.assign(pairs, pairs + n * 2 * kElem);
    pairs = copy.data();
  }
  sha_pipeline();
  constexpr uint64_t kPerNode = 3 * kElem;
  const uint64_t chunk = std::min<uint64_t>(n, capacity_ / kPerNode);
  if (chunk == 0) {
    throw sdk::exhausted("sha254_batch: one node does not fit the " + std::to_string(capacity_) +
                         "-byte work buffer (raise memory_limit)");
  }
  ensure_work(chunk * kPerNode);
  for (uint64_t base = 0; base < n; base += chunk) {
    const uint64_t m = std::min<uint64_t>(chunk, n - base);
    const uint64_t out_offset = m * 2 * kElem;
    upload(work_, 0, pairs + base * 2 * kElem, m * 2 * kElem);
    for (uint64_t b = 0; b < m; b += batch_) {
      const uint64_t count = std::min<uint64_t>(batch_, m - b);
      run.step(
          [&](VkCommandBuffer cb) {
            record_sha(cb, b * 2 * kWordsPerElem, out_offset / 4 + b * kWordsPerElem, count);
          },
          count, "sha254");
    }
    run.drain();
    download(work_, out_offset, out + base * kElem, m * kElem);
  }
  run.finish("sha254");
}

}  // namespace sealhost::compute_vulkan
