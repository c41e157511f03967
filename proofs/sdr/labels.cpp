#include "proofs/sdr/labels.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "proofs/sdr/label_kernel.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SDR_CPU_RELAX() _mm_pause()
#else
#define SDR_CPU_RELAX() ((void)0)
#endif

namespace {
// A software prefetch into all cache levels. Inline asm on x86: GCC 12 silently drops
// __builtin_prefetch / _mm_prefetch in some inlined loops (the gather loops here lost every
// prefetch), and these prefetches are what keeps DRAM latency off the SHA chain.
inline void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}
}  // namespace

namespace sealhost::proofs::sdr {
namespace fs = std::filesystem;
using detail::kLastBlockOffset;
using detail::kSlotBytes;

namespace {

constexpr uint64_t kMaxInMemoryBytes = uint64_t{8} << 30;
// De-interleaving buffer of the layer writer and the resume reader (a multiple of 32).
constexpr uint64_t kStagingBytes = uint64_t{4} << 20;
constexpr size_t kMaxBatch = 8;

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// ---------------------------------------------------------------- in-memory labelling

template <typename ParentsOf>
LayerLabels label_all(uint64_t nodes, ParentsOf&& parents_of, const ReplicaId& replica_id,
                      uint32_t layers) {
  if (layers == 0) throw SdrError("sdr labels: layers must be >= 1");
  if (nodes * kLabelBytes * layers > kMaxInMemoryBytes) {
    throw SdrError("sdr labels: " + std::to_string(nodes) + " nodes x " + std::to_string(layers) +
                   " layers do not fit the in-memory labeller's 8 GiB limit (use run_pc1)");
  }
  LayerLabels out;
  out.nodes = nodes;
  out.layers = layers;
  out.data.resize(nodes * kLabelBytes * layers);
  alignas(64) uint8_t slot[kSlotBytes];
  alignas(64) uint8_t header[64];
  detail::init_slot_tail(slot);
  uint32_t p[kDegree];
  for (uint32_t l = 1; l <= layers; ++l) {
    uint8_t* cur = out.data.data() + (l - 1) * nodes * kLabelBytes;
    const uint8_t* prev = l > 1 ? cur - nodes * kLabelBytes : nullptr;
    detail::node0_label(replica_id, l, cur);
    detail::init_header(header, replica_id, l);
    const bool first = l == 1;
    for (uint64_t v = 1; v < nodes; ++v) {
      parents_of(v, p);
      for (uint32_t i = 0; i < kBaseDegree; ++i) {
        std::memcpy(slot + i * kLabelBytes, cur + uint64_t{p[i]} * kLabelBytes, kLabelBytes);
      }
      if (!first) {
        for (uint32_t i = kBaseDegree; i < kDegree; ++i) {
          std::memcpy(slot + i * kLabelBytes, prev + uint64_t{p[i]} * kLabelBytes, kLabelBytes);
        }
      }
      std::memcpy(slot + kLastBlockOffset, slot + (first ? 0 : 8 * kLabelBytes), kLabelBytes);
      detail::set_header_node(header, v);
      const uint8_t* h = header;
      const uint8_t* s = slot;
      uint8_t* o = cur + v * kLabelBytes;
      detail::hash_nodes<1>(&h, &s, first, &o);
    }
  }
  return out;
}

// ---------------------------------------------------------------- files

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort
  ::fsync(fd);
  ::close(fd);
}

bool read_exact(int fd, uint8_t* buf, uint64_t bytes, uint64_t offset) {
  while (bytes > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(bytes, uint64_t{1} << 30));
    const ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    bytes -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

// Reads `bytes` of labels at file offset 0 into data, node v at data + v * stride.
bool read_labels(int fd, uint8_t* data, uint64_t stride, uint64_t bytes) {
  if (stride == kLabelBytes) return read_exact(fd, data, bytes, 0);
  std::vector<uint8_t> staging(std::min<uint64_t>(bytes, kStagingBytes));
  for (uint64_t off = 0; off < bytes; off += staging.size()) {
    const uint64_t chunk = std::min<uint64_t>(bytes - off, staging.size());
    if (!read_exact(fd, staging.data(), chunk, off)) return false;
    uint8_t* to = data + off / kLabelBytes * stride;
    for (uint64_t i = 0; i < chunk / kLabelBytes; ++i) {
      std::memcpy(to + i * stride, staging.data() + i * kLabelBytes, kLabelBytes);
    }
  }
  return true;
}

// Anonymous memory for one layer of labels; huge pages where the kernel allows (parents are
// random reads over the whole layer).
uint8_t* map_layer_memory(uint64_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    throw SdrError("pc1: cannot allocate " + std::to_string(bytes >> 20) +
                   " MiB for a layer of labels: " + errno_text(errno) +
                   " (free memory or label fewer sectors at once)");
  }
  ::madvise(p, bytes, MADV_HUGEPAGE);
  return static_cast<uint8_t*>(p);
}

// Faults in [p, p + len) of fresh anonymous memory for writing: MADV_POPULATE_WRITE (Linux 5.14),
// else one write per 4 KiB page (the memory is still zero, so writing zero changes nothing).
void populate_memory(uint8_t* p, uint64_t len) {
  constexpr int kMadvPopulateWrite = 23;
  if (::madvise(p, len, kMadvPopulateWrite) == 0 || errno != EINVAL) return;
  for (uint64_t off = 0; off < len; off += 4096) {
    *static_cast<volatile uint8_t*>(p + off) = 0;
  }
}

// The lanes of a run: sectors are dealt round-robin to min(threads, sectors) lanes. Returns the
// number of lanes; sector s goes to lane s % lanes.
size_t lane_count(size_t sectors, unsigned threads) {
  return std::clamp<size_t>(threads, 1, std::max<size_t>(sectors, 1));
}

// One layer of labels, taken from / given back to a LayerBufferPool when the run has one.
class LayerBuffer {
 public:
  LayerBuffer(uint64_t bytes, LayerBufferPool* pool) : bytes_(bytes), pool_(pool) {
    if (pool_ != nullptr) {
      if (void* p = pool_->take(bytes)) {
        data_ = static_cast<uint8_t*>(p);
        reused_ = true;
        return;
      }
    }
    data_ = map_layer_memory(bytes);
  }
  LayerBuffer(const LayerBuffer&) = delete;
  LayerBuffer& operator=(const LayerBuffer&) = delete;
  ~LayerBuffer() {
    if (pool_ != nullptr) {
      pool_->give(data_, bytes_);
    } else {
      ::munmap(data_, bytes_);
    }
  }
  // True when the pages came from the pool (already faulted in).
  bool reused() const { return reused_; }
  uint64_t bytes() const { return bytes_; }
  uint8_t* data() const { return data_; }
  // Faults in the pages of nodes [node, node + count), `stride` bytes per node.
  void populate(uint64_t node, uint64_t count, uint64_t stride) const {
    const uint64_t begin = node * stride;
    if (reused_ || begin >= bytes_) return;
    populate_memory(data_ + begin, std::min<uint64_t>(count * stride, bytes_ - begin));
  }

 private:
  uint8_t* data_ = nullptr;
  uint64_t bytes_;
  LayerBufferPool* pool_;
  bool reused_ = false;
};

// Faults in fresh layer buffers, in the order the layers use them, on a thread of the lowest
// CPU priority (SCHED_IDLE): it runs only where a core would otherwise idle (one sector: the
// producer's core between refills), so the first touch of the buffers (page faults and zeroing,
// seconds per GiB on a VM) leaves the labelling threads. Where no core idles (a batch), it gets
// almost nothing and the lanes fault the pages themselves, as without it.
class Prefaulter {
 public:
  explicit Prefaulter(std::vector<const LayerBuffer*> buffers) {
    thread_ = std::thread([this, buffers = std::move(buffers)] { run(buffers); });
  }
  Prefaulter(const Prefaulter&) = delete;
  Prefaulter& operator=(const Prefaulter&) = delete;
  ~Prefaulter() {
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
  }

 private:
  void run(const std::vector<const LayerBuffer*>& buffers) {
    sched_param param{};
    ::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &param);  // best effort
    constexpr uint64_t kStep = uint64_t{2} << 20;                   // one huge page
    for (const LayerBuffer* b : buffers) {
      for (uint64_t off = 0; off < b->bytes(); off += kStep) {
        if (stop_.load(std::memory_order_relaxed)) return;
        b->populate(off, std::min(kStep, b->bytes() - off), 1);
      }
    }
  }
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Writes one layer of several sectors to "<layer file>.tmp" while the lanes label it, trailing
// the nodes they have finished, then fsyncs and renames each file: the write is off the critical
// path except its last chunk, and a crash leaves only .tmp files (dropped on restart). Layers over
// 16 MiB go through O_DIRECT where the filesystem allows it (no page-cache copy; on a VM, fresh
// page-cache pages cost more than the copy itself); smaller ones stay in the page cache for PC2.
class LayerWriter {
 public:
  struct Target {
    fs::path dir;
    const uint8_t* data;  // node v's label at data + v * stride (a lane's interleaved buffer)
    uint64_t stride;
    const std::atomic<uint64_t>* done;  // labels [0, done) are final
  };

  // What the writers of a run share: `failed` is set when a write fails (the lanes poll it and
  // stop); `direct_files` counts files completed with O_DIRECT.
  struct Shared {
    std::atomic<bool> failed{false};
    std::atomic<uint32_t> direct_files{0};
    // Lanes notify when they finish a layer, so its last chunk goes out without waiting for the
    // next poll (a missed notify only costs one poll interval).
    std::mutex mutex;
    std::condition_variable wake;
  };

  LayerWriter(uint32_t layer, uint64_t nodes, std::vector<Target> targets,
              Pc1Request::WriteMode mode, Shared* shared)
      : layer_(layer), bytes_(nodes * kLabelBytes), targets_(std::move(targets)) {
    direct_ = bytes_ % kDirectAlign == 0 &&
              (mode == Pc1Request::WriteMode::direct ||
               (mode == Pc1Request::WriteMode::automatic && bytes_ > (uint64_t{16} << 20)));
    shared_ = shared;
    thread_ = std::thread([this] { run(); });
  }
  LayerWriter(const LayerWriter&) = delete;
  LayerWriter& operator=(const LayerWriter&) = delete;
  ~LayerWriter() { stop(); }

  // Waits until every file is durable and renamed; rethrows the first write error.
  void finish() {
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }
  // Labelling stopped: files whose labels are all final are still completed (valid resume
  // points), the others are removed. Returns the write error, if any.
  std::exception_ptr stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
    return std::exchange(error_, nullptr);
  }

 private:
  static constexpr uint64_t kDirectAlign = 4096;
  static constexpr uint64_t kChunkBytes = uint64_t{4} << 20;  // == kStagingBytes

  struct File {
    fs::path tmp, final_path;
    int fd = -1;
    uint64_t written = 0;
    bool closed = false;
  };

  [[noreturn]] void fail(const Target& t, const File& f, const std::string& what, int err) const {
    throw SdrError("cache dir " + t.dir.string() + ": " + what + " of layer " +
                   std::to_string(layer_) + " (" + f.tmp.filename().string() +
                   ") failed: " + errno_text(err) +
                   (err == ENOSPC ? " (free space in the cache dir, then run PC1 again to resume)"
                                  : " (check the cache dir, then run PC1 again to resume)"));
  }

  void open_file(const Target& t, File& f) {
    f.final_path = t.dir / layer_file_name(layer_);
    f.tmp = t.dir / (layer_file_name(layer_) + ".tmp");
    const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
    f.fd = direct_ ? ::open(f.tmp.c_str(), flags | O_DIRECT, 0644) : -1;
    if (f.fd < 0) f.fd = ::open(f.tmp.c_str(), flags, 0644);  // no O_DIRECT here (tmpfs)
    if (f.fd < 0) fail(t, f, "create", errno);
  }

  // Writes bytes [f.written, f.written + len) of the file.
  void write_chunk(const Target& t, File& f, uint64_t len) {
    const uint8_t* src = t.data + f.written;
    if (t.stride != kLabelBytes) {
      const uint8_t* from = t.data + f.written / kLabelBytes * t.stride;
      for (uint64_t i = 0; i < len / kLabelBytes; ++i) {
        std::memcpy(staging_ + i * kLabelBytes, from + i * t.stride, kLabelBytes);
      }
      src = staging_;
    }
    uint64_t done = 0;
    while (done < len) {
      const ssize_t n = ::pwrite(f.fd, src + done, static_cast<size_t>(len - done),
                                 static_cast<off_t>(f.written + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EINVAL && (::fcntl(f.fd, F_GETFL) & O_DIRECT) != 0) {
        // The filesystem refused direct I/O after all: continue through the page cache.
        ::fcntl(f.fd, F_SETFL, ::fcntl(f.fd, F_GETFL) & ~O_DIRECT);
        continue;
      }
      if (n <= 0) fail(t, f, "write", n < 0 ? errno : EIO);
      done += static_cast<uint64_t>(n);
    }
    f.written += len;
  }

  void close_file(const Target& t, File& f) {
    if (::fsync(f.fd) != 0) fail(t, f, "fsync", errno);
    if ((::fcntl(f.fd, F_GETFL) & O_DIRECT) != 0) shared_->direct_files.fetch_add(1);
    ::close(f.fd);
    f.fd = -1;
    if (::rename(f.tmp.c_str(), f.final_path.c_str()) != 0) fail(t, f, "rename", errno);
    fsync_dir(t.dir);
    f.closed = true;
  }

  void run() {
    std::vector<File> files(targets_.size());
    void* staging = nullptr;
    try {
      if (::posix_memalign(&staging, kDirectAlign, kChunkBytes) != 0) throw std::bad_alloc();
      staging_ = static_cast<uint8_t*>(staging);
      for (size_t i = 0; i < targets_.size(); ++i) open_file(targets_[i], files[i]);
      size_t open = files.size();
      while (open > 0) {
        const bool stopping = stop_.load(std::memory_order_relaxed);
        bool progress = false;
        for (size_t i = 0; i < files.size(); ++i) {
          File& f = files[i];
          if (f.closed) continue;
          const Target& t = targets_[i];
          const uint64_t avail = t.done->load(std::memory_order_acquire) * kLabelBytes;
          // Whole chunks while labelling goes on (aligned for O_DIRECT), then the rest.
          while (f.written < bytes_ &&
                 (avail - f.written >= kChunkBytes || (avail == bytes_ && f.written < avail))) {
            write_chunk(t, f, std::min(kChunkBytes, avail - f.written));
            progress = true;
          }
          if (f.written == bytes_) {
            close_file(t, f);
            --open;
            progress = true;
          }
        }
        if (progress) continue;
        if (stopping) break;  // the remaining files cannot be completed
        std::unique_lock lock(shared_->mutex);
        shared_->wake.wait_for(lock, std::chrono::milliseconds(5));
      }
    } catch (...) {
      error_ = std::current_exception();
      shared_->failed.store(true, std::memory_order_relaxed);
    }
    for (File& f : files) {
      if (f.fd >= 0) ::close(f.fd);
      std::error_code ec;
      if (!f.closed && !f.tmp.empty()) fs::remove(f.tmp, ec);
    }
    std::free(staging);
  }

  uint32_t layer_;
  uint64_t bytes_;
  std::vector<Target> targets_;
  bool direct_ = false;
  Shared* shared_ = nullptr;
  uint8_t* staging_ = nullptr;
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

// A complete layer file: right size, node 0 and the last node recomputed from the file (and the
// previous layer's file) match. Catches files of another replica id, layer or truncation.
bool layer_file_valid(const fs::path& dir, uint32_t layer, const ReplicaId& replica_id,
                      const ParentCache& cache) {
  const uint64_t nodes = cache.nodes();
  const fs::path path = dir / layer_file_name(layer);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) != nodes * kLabelBytes) {
    return false;
  }
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  uint8_t got[32], want[32];
  detail::node0_label(replica_id, layer, want);
  if (!read_exact(fd.get(), got, 32, 0) || std::memcmp(got, want, 32) != 0) return false;

  const fs::path prev_path = dir / layer_file_name(layer > 1 ? layer - 1 : 1);
  const Fd prev_fd(layer > 1 ? ::open(prev_path.c_str(), O_RDONLY | O_CLOEXEC) : -1);
  if (layer > 1 && prev_fd.get() < 0) return false;
  const uint64_t v = nodes - 1;
  const uint32_t* p = cache.parents(v);
  alignas(64) uint8_t slot[kSlotBytes];
  alignas(64) uint8_t header[64];
  detail::init_slot_tail(slot);
  for (uint32_t i = 0; i < kBaseDegree; ++i) {
    if (!read_exact(fd.get(), slot + i * 32, 32, uint64_t{p[i]} * 32)) return false;
  }
  if (layer > 1) {
    for (uint32_t i = kBaseDegree; i < kDegree; ++i) {
      if (!read_exact(prev_fd.get(), slot + i * 32, 32, uint64_t{p[i]} * 32)) return false;
    }
  }
  std::memcpy(slot + kLastBlockOffset, slot + (layer == 1 ? 0 : 8 * 32), 32);
  detail::init_header(header, replica_id, layer);
  detail::set_header_node(header, v);
  const uint8_t* h = header;
  const uint8_t* s = slot;
  uint8_t* o = want;
  detail::hash_nodes<1>(&h, &s, layer == 1, &o);
  return read_exact(fd.get(), got, 32, v * 32) && std::memcmp(got, want, 32) == 0;
}

uint64_t statvfs_free(const fs::path& dir) {
  struct statvfs sv {};
  if (::statvfs(dir.c_str(), &sv) != 0) {
    throw SdrError("cache dir " + dir.string() + ": statvfs failed: " + errno_text(errno) +
                   " (check that the directory exists and is readable)");
  }
  return static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
}

// ---------------------------------------------------------------- PC1 engine

struct Sector {
  ReplicaId replica_id{};
  fs::path dir;
  uint32_t complete = 0;  // valid layer files on disk (1..complete)
  size_t lane = 0;        // the lane labelling it
  size_t pos = 0;         // its place in the lane's interleaved buffers
  alignas(64) uint8_t header[64];
};

// The sectors one thread labels, with their layers interleaved: node v of the lane's k sectors
// is k consecutive labels (a 64-byte line for k = 2), so one random parent read serves them all
// (half the cache lines and TLB entries of separate buffers for k = 2). One sector: stride 32,
// the layer file's own layout.
struct Lane {
  std::vector<size_t> sectors;
  uint64_t stride = kLabelBytes;  // bytes from node v to node v + 1
  std::unique_ptr<LayerBuffer> cur, prev;
};

// Involuntary context switches of the calling thread so far (the scheduler took its core).
uint64_t thread_preemptions() {
  rusage ru{};
  if (::getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_nivcsw);
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

constexpr uint64_t kInlineMaxLayerBytes = uint64_t{16} << 20;
constexpr uint64_t kConsumerPrefetch = 8;
constexpr uint64_t kHolePrefetch = 4;
constexpr uint64_t kPublishEvery = 16;
constexpr uint64_t kGatherPrefetch = 16;
constexpr uint64_t kPopulateNodes = uint64_t{1} << 16;  // 2 MiB of labels

// Prefetches the parent labels of node `ahead`: expander parents (previous layer) always, DRG
// parents (current layer) only when already computed (< done): the rest are hot anyway.
inline void prefetch_parents(const uint32_t* pf, bool first, uint64_t done, const uint8_t* cur,
                             const uint8_t* prev) {
  for (uint32_t i = 0; i < kBaseDegree; ++i) {
    if (pf[i] < done) prefetch(cur + uint64_t{pf[i]} * 32);
  }
  if (first) return;
  for (uint32_t i = kBaseDegree; i < kDegree; ++i) prefetch(prev + uint64_t{pf[i]} * 32);
}

inline void spin_wait(unsigned& spins) {
  if (++spins < 256) {
    SDR_CPU_RELAX();
  } else {
    std::this_thread::yield();
  }
}

class Pc1Engine {
 public:
  Pc1Engine(const Pc1Request& req, uint32_t layers) : req_(req), layers_(layers) {
    nodes_ = req.parent_cache->nodes();
    layer_bytes_ = nodes_ * kLabelBytes;
    n_ = req.replica_ids.size();
    interval_ = std::clamp<uint64_t>(nodes_ / 16, 1, 4096);
    // A ring of about 4 MiB: several milliseconds of hashing work, so the hasher keeps going
    // through a scheduler time slice in which the producer does not run (shared machines), while
    // still fitting the last-level cache; the hasher prefetches its slots.
    slots_ = 8192;
    while (slots_ > 256 && slots_ * n_ * kSlotBytes > (size_t{4} << 20)) slots_ /= 2;
  }

  std::vector<Pc1SectorResult> run();

 private:
  void prepare_sectors();
  void check_free_space() const;
  void label_layer(uint32_t layer);
  void label_layer_lanes(uint32_t layer);
  void lane(uint32_t layer, size_t li, bool reporter);
  void lane_serial(uint32_t layer, size_t s, bool reporter);
  void lane_batch(uint32_t layer, size_t li, bool reporter);
  void lane_pairs(uint32_t layer, size_t li, bool reporter, uint8_t* const* headers);
  void prefetch_lane(const Lane& lane, bool first, uint64_t v) const;
  void label_layer_pipelined(uint32_t layer);
  void produce(uint32_t layer);
  void after_node(uint32_t layer, uint64_t v, size_t lane, bool reporter);
  void start_writer(uint32_t layer);
  std::atomic<uint64_t>& lane_done(uint32_t layer, size_t lane) {
    return lane_done_[layer & 1][lane];
  }

  // Sector s's labels of the current / previous layer (node v at + v * stride of its lane).
  uint8_t* cur_of(size_t s) const {
    return lanes_[sectors_[s].lane].cur->data() + sectors_[s].pos * kLabelBytes;
  }
  uint8_t* prev_of(size_t s) const {
    return lanes_[sectors_[s].lane].prev->data() + sectors_[s].pos * kLabelBytes;
  }

  uint8_t* slot(uint64_t v, size_t s) const {
    return ring_.data() + ((v & (slots_ - 1)) * n_ + s) * kSlotBytes;
  }
  // The header states of node v's sectors (n_ consecutive entries).
  sha256::State* state(uint64_t v) { return states_.data() + (v & (slots_ - 1)) * n_; }

  const Pc1Request& req_;
  uint32_t layers_;
  uint64_t nodes_ = 0;
  uint64_t layer_bytes_ = 0;
  size_t n_ = 0;
  uint64_t interval_ = 1;
  uint64_t slots_ = 1024;
  std::vector<Sector> sectors_;
  std::vector<Lane> lanes_;
  std::vector<uint8_t> ring_storage_;
  std::span<uint8_t> ring_;
  std::vector<uint8_t> masks_;
  std::vector<sha256::State> states_;
  int width_ = 2;

  alignas(64) std::atomic<uint64_t> produced_{0};
  alignas(64) std::atomic<uint64_t> consumed_{0};
  alignas(64) std::atomic<bool> stop_{false};
  // Set when a lane fails or cancel is seen: the other lanes stop at their next check.
  std::atomic<bool> lanes_stop_{false};

  // Nodes of layer l labelled by each lane (labels [0, done) final), read by layer l's writer;
  // by layer parity, as layer l-1's writer may still be finishing while layer l starts.
  std::atomic<uint64_t> lane_done_[2][kMaxBatch] = {};
  // The writers of the last two layers (index: layer parity).
  std::unique_ptr<LayerWriter> writers_[2];
  LayerWriter::Shared writer_shared_;

 public:
  Pc1Stats stats_;
  std::atomic<double> producer_cpu_{0};
  std::atomic<double> hashing_cpu_{0};
  uint32_t writer_direct_files() const { return writer_shared_.direct_files.load(); }
};

void Pc1Engine::prepare_sectors() {
  sectors_.resize(n_);
  for (size_t s = 0; s < n_; ++s) {
    Sector& sec = sectors_[s];
    sec.replica_id = req_.replica_ids[s];
    sec.dir = req_.cache_dirs[s];
    std::error_code ec;
    fs::create_directories(sec.dir, ec);
    if (ec || !fs::is_directory(sec.dir)) {
      throw SdrError("cache dir " + sec.dir.string() + ": cannot create it" +
                     (ec ? ": " + ec.message() : std::string()) +
                     " (give each sector a writable cache directory)");
    }
    // A crash while writing leaves only "<layer>.tmp" files: drop them.
    for (uint32_t l = 1; l <= layers_ + 1; ++l) {
      fs::remove(sec.dir / (layer_file_name(l) + ".tmp"), ec);
    }
    sec.complete = 0;
    while (sec.complete < layers_ &&
           layer_file_valid(sec.dir, sec.complete + 1, sec.replica_id, *req_.parent_cache)) {
      ++sec.complete;
    }
    // Files after the first invalid/missing layer are stale (another replica, a torn write).
    for (uint32_t l = sec.complete + 1; l <= layers_; ++l) {
      fs::remove(sec.dir / layer_file_name(l), ec);
    }
  }
}

void Pc1Engine::check_free_space() const {
  // Sectors on one filesystem share its free space.
  std::map<dev_t, std::pair<uint64_t, fs::path>> need;
  for (const Sector& sec : sectors_) {
    struct stat st {};
    if (::stat(sec.dir.c_str(), &st) != 0) {
      throw SdrError("cache dir " + sec.dir.string() + ": stat failed: " + errno_text(errno));
    }
    auto& entry = need[st.st_dev];
    entry.first += (layers_ - sec.complete) * layer_bytes_;
    if (entry.second.empty()) entry.second = sec.dir;
  }
  for (const auto& [dev, entry] : need) {
    if (entry.first == 0) continue;
    const uint64_t free =
        req_.free_space ? req_.free_space(entry.second) : statvfs_free(entry.second);
    if (free < entry.first) {
      throw SdrError("cache dir " + entry.second.string() + ": PC1 needs " +
                     std::to_string(entry.first) + " bytes for the remaining layer files but " +
                     std::to_string(free) +
                     " bytes are free (free space on that filesystem or use another cache dir)");
    }
  }
}

void Pc1Engine::start_writer(uint32_t layer) {
  std::vector<LayerWriter::Target> targets;
  for (size_t s = 0; s < n_; ++s) {
    if (sectors_[s].complete >= layer) continue;  // already on disk from an earlier run
    const size_t lane = sectors_[s].lane;
    targets.push_back({sectors_[s].dir, cur_of(s), lanes_[lane].stride, &lane_done(layer, lane)});
  }
  if (targets.empty()) return;
  writers_[layer & 1] = std::make_unique<LayerWriter>(layer, nodes_, std::move(targets),
                                                      req_.write_mode, &writer_shared_);
}

void Pc1Engine::after_node(uint32_t layer, uint64_t v, size_t lane, bool reporter) {
  if ((v + 1) % interval_ != 0) return;
  lane_done(layer, lane).store(v + 1, std::memory_order_release);
  if (writer_shared_.failed.load(std::memory_order_relaxed)) lanes_stop_.store(true);
  if (!reporter) {
    if (lanes_stop_.load(std::memory_order_relaxed)) {
      throw SdrCancelled("pc1 lane stopped in layer " + std::to_string(layer));
    }
    return;
  }
  if (lanes_stop_.load(std::memory_order_relaxed) || (req_.cancelled && req_.cancelled())) {
    lanes_stop_.store(true, std::memory_order_relaxed);
    throw SdrCancelled("pc1 cancelled in layer " + std::to_string(layer) + " at node " +
                       std::to_string(v + 1) + " of " + std::to_string(nodes_) +
                       "; complete layers are kept, run PC1 again to resume");
  }
  if (req_.progress) req_.progress(Pc1Progress{layer, layers_, v + 1, nodes_});
}

// Copies node v's parent labels into a slot, except the DRG parents flagged in `skip`.
inline void gather_parents(const uint32_t* p, bool first, const uint8_t* cur, const uint8_t* prev,
                           uint8_t* sl, uint32_t skip) {
  for (uint32_t i = 0; i < kBaseDegree; ++i) {
    if ((skip >> i & 1) == 0) std::memcpy(sl + i * 32, cur + uint64_t{p[i]} * 32, 32);
  }
  if (!first) {
    for (uint32_t i = kBaseDegree; i < kDegree; ++i) {
      std::memcpy(sl + i * 32, prev + uint64_t{p[i]} * 32, 32);
    }
    std::memcpy(sl + kLastBlockOffset, sl + 8 * 32, 32);
  } else if ((skip & 1) == 0) {
    std::memcpy(sl + kLastBlockOffset, sl, 32);
  }
}

// Writes a computed label into the slot chunks flagged in `chunks` (layer 1: chunk 0 is also the
// last block's).
inline void patch_chunks(uint8_t* sl, uint32_t chunks, const uint8_t* label, bool first) {
  for (uint32_t i = 0; i < kBaseDegree; ++i) {
    if ((chunks >> i & 1) != 0) std::memcpy(sl + i * 32, label, 32);
  }
  if (first && (chunks & 1) != 0) std::memcpy(sl + kLastBlockOffset, label, 32);
}

// One sector on this thread, gathering its own parents: a serial chain (see ChainNode), so the
// gathering work fills the gaps the SHA unit leaves between dependent compressions.
void Pc1Engine::lane_serial(uint32_t layer, size_t s, bool reporter) {
  const bool first = layer == 1;
  const ParentCache& cache = *req_.parent_cache;
  const Sector& sec = sectors_[s];
  uint8_t* cur = cur_of(s);
  const uint8_t* prev = prev_of(s);
  alignas(64) uint8_t slots[2][kSlotBytes];
  alignas(64) uint8_t headers[2][64];
  detail::ChainNode nodes[2];
  for (int i = 0; i < 2; ++i) {
    detail::init_slot_tail(slots[i]);
    detail::init_header(headers[i], sec.replica_id, layer);
    nodes[i].slot = slots[i];
    nodes[i].header = headers[i];
  }
  // Node v into nodes[v & 1], all parents but node v-1 (not computed yet); returns those chunks.
  auto prepare = [&](uint64_t v) {
    detail::ChainNode& n = nodes[v & 1];
    const uint32_t* p = cache.parents(v);
    const uint32_t self = detail::self_chunks(p, v);
    gather_parents(p, first, cur, prev, n.slot, self);
    detail::set_header_node(headers[v & 1], v);
    n.state = sha256::kInitialState;
    n.done = 0;
    n.prefix = detail::independent_prefix(self);
    return self;
  };
  patch_chunks(nodes[1].slot, prepare(1), cur, first);  // node 0 is computed
  for (uint64_t v = 1; v < nodes_; ++v) {
    if (v + kGatherPrefetch < nodes_) {
      prefetch_parents(cache.parents(v + kGatherPrefetch), first, v, cur, prev);
    }
    uint32_t self = 0;
    if (v + 1 < nodes_) {
      self = prepare(v + 1);
    } else {
      nodes[(v + 1) & 1].prefix = 0;  // no next node
    }
    detail::chain_step(nodes[v & 1], nodes[(v + 1) & 1], first, cur + v * 32, self);
    after_node(layer, v, sec.lane, reporter);
  }
}

// Prefetches the parent lines (k labels each) of the lane's node v + kGatherPrefetch: expander
// parents always, DRG parents already computed (< v).
void Pc1Engine::prefetch_lane(const Lane& lane, bool first, uint64_t v) const {
  if (v + kGatherPrefetch >= nodes_) return;
  const uint32_t* pf = req_.parent_cache->parents(v + kGatherPrefetch);
  auto prefetch_node = [stride = lane.stride](const uint8_t* at) {
    for (uint64_t off = 0; off < stride; off += 64) prefetch(at + off);
  };
  for (uint32_t i = 0; i < kBaseDegree; ++i) {
    if (pf[i] < v) prefetch_node(lane.cur->data() + uint64_t{pf[i]} * lane.stride);
  }
  if (first) return;
  for (uint32_t i = kBaseDegree; i < kDegree; ++i) {
    prefetch_node(lane.prev->data() + uint64_t{pf[i]} * lane.stride);
  }
}

// Several sectors on this thread: node v of each, hashed as interleaved SHA streams. Their labels
// are interleaved (Lane), so each parent is one read of k adjacent labels.
void Pc1Engine::lane_batch(uint32_t layer, size_t li, bool reporter) {
  const Lane& lane = lanes_[li];
  const bool first = layer == 1;
  const ParentCache& cache = *req_.parent_cache;
  const size_t k = lane.sectors.size();
  const uint64_t stride = lane.stride;
  uint8_t* cur = lane.cur->data();
  const uint8_t* prev = lane.prev->data();
  std::vector<uint8_t> storage((kSlotBytes + 64) * k + 64);
  uint8_t* base = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  std::vector<uint8_t*> slots(k), headers(k), out(k);
  for (size_t i = 0; i < k; ++i) {
    uint8_t* sl = base + i * kSlotBytes;
    uint8_t* hd = base + k * kSlotBytes + i * 64;
    detail::init_slot_tail(sl);
    detail::init_header(hd, sectors_[lane.sectors[i]].replica_id, layer);
    slots[i] = sl;
    headers[i] = hd;
  }
  auto copy_parent = [&](const uint8_t* src, uint32_t chunk) {
    for (size_t i = 0; i < k; ++i) std::memcpy(slots[i] + chunk * 32, src + i * 32, 32);
  };
  const uint32_t last = first ? 0 : 8;  // the last block repeats parent 0 (layer 1) or 8
  // Even lanes hash in fused pairs, unless 4 streams per call were measured clearly faster (or
  // forced): then lanes of 4 and more take the plain x4 kernel below.
  if (k % 2 == 0 && (k == 2 || width_ == 2) && detail::sha_ni_in_use()) {
    lane_pairs(layer, li, reporter, headers.data());
    return;
  }
  for (uint64_t v = 1; v < nodes_; ++v) {
    prefetch_lane(lane, first, v);
    const uint32_t* p = cache.parents(v);
    for (uint32_t i = 0; i < kBaseDegree; ++i) copy_parent(cur + uint64_t{p[i]} * stride, i);
    if (!first) {
      for (uint32_t i = kBaseDegree; i < kDegree; ++i) {
        copy_parent(prev + uint64_t{p[i]} * stride, i);
      }
    }
    for (size_t i = 0; i < k; ++i) {
      std::memcpy(slots[i] + kLastBlockOffset, slots[i] + last * 32, 32);
      detail::set_header_node(headers[i], v);
      out[i] = cur + v * stride + i * kLabelBytes;
    }
    detail::hash_nodes_any(k, width_, headers.data(), slots.data(), first, out.data());
    after_node(layer, v, li, reporter);
  }
}

// A lane of an even number of sectors with SHA-NI, hashed in pairs: each pair's node v is two
// streams while the pair's share of node v+1's parents (64 bytes of each parent's row of k labels)
// is copied into its other slots (detail::Gather2), except the parents that are node v itself,
// patched from its labels afterwards. The pairs of a lane read the same parent rows, so the
// second pair's reads hit the TLB entries and page walks of the first.
void Pc1Engine::lane_pairs(uint32_t layer, size_t li, bool reporter, uint8_t* const* headers) {
  const Lane& lane = lanes_[li];
  const bool first = layer == 1;
  const ParentCache& cache = *req_.parent_cache;
  const size_t k = lane.sectors.size();
  const size_t pairs = k / 2;
  const uint64_t stride = lane.stride;
  uint8_t* cur = lane.cur->data();
  const uint8_t* prev = lane.prev->data();
  // slots[parity][sector]: node v's slots are parity (v & 1) ^ 1 (so node 1 uses parity 0).
  std::vector<uint8_t> storage(2 * k * kSlotBytes + 64);
  uint8_t* base = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  std::vector<uint8_t*> slots[2];
  for (int parity = 0; parity < 2; ++parity) {
    for (size_t i = 0; i < k; ++i) {
      slots[parity].push_back(base + (parity * k + i) * kSlotBytes);
      detail::init_slot_tail(slots[parity].back());
    }
  }
  // Node v's gather for pair 0 into the slots of `parity`, leaving out parents equal to `skip`
  // (the node being hashed); returns the chunks left out. Pair q's gather is the same shifted by
  // 64 q bytes in the rows and 2 q sectors in the slots.
  auto plan = [&](uint64_t v, int parity, uint64_t skip, detail::Gather2& g) {
    const uint32_t* p = cache.parents(v);
    uint32_t self = 0;
    for (uint32_t i = 0; i < kBaseDegree; ++i) {
      if (p[i] == skip) {
        self |= 1u << i;
        g.src[i] = nullptr;
      } else {
        g.src[i] = cur + uint64_t{p[i]} * stride;
      }
    }
    for (uint32_t i = kBaseDegree; i < kDegree; ++i) {
      g.src[i] = first ? nullptr : prev + uint64_t{p[i]} * stride;
    }
    g.dst[0] = slots[parity][0];
    g.dst[1] = slots[parity][1];
    const uint32_t last = first ? 0 : 8;
    g.last = (self >> last & 1) != 0 ? -1 : static_cast<int>(last);
    return self;
  };
  auto for_pair = [&](const detail::Gather2& g0, int parity, size_t q) {
    detail::Gather2 g = g0;
    for (const uint8_t*& src : g.src) {
      if (src != nullptr) src += 64 * q;
    }
    g.dst[0] = slots[parity][2 * q];
    g.dst[1] = slots[parity][2 * q + 1];
    return g;
  };
  auto copy_now = [](const detail::Gather2& g) {
    for (int i = 0; i < 14; ++i) {
      if (g.src[i] == nullptr) continue;
      for (int s = 0; s < 2; ++s) {
        std::memcpy(g.dst[s] + 32 * i, g.src[i] + 32 * s, 32);
        if (i == g.last) std::memcpy(g.dst[s] + kLastBlockOffset, g.src[i] + 32 * s, 32);
      }
    }
  };
  detail::Gather2 next;
  plan(1, 0, UINT64_MAX, next);  // node 1: every parent is final
  for (size_t q = 0; q < pairs; ++q) copy_now(for_pair(next, 0, q));
  for (size_t i = 0; i < k; ++i) detail::set_header_node(headers[i], 1);
  for (uint64_t v = 1; v < nodes_; ++v) {
    prefetch_lane(lane, first, v);
    const int parity = static_cast<int>(v & 1) ^ 1;
    uint32_t self = 0;
    if (v + 1 < nodes_) {
      self = plan(v + 1, parity ^ 1, v, next);
    } else {
      next = detail::Gather2{};  // nothing to gather after the last node
    }
    uint8_t* const row = cur + v * stride;
    for (size_t q = 0; q < pairs; ++q) {
      const uint8_t* cur_slots[2] = {slots[parity][2 * q], slots[parity][2 * q + 1]};
      uint8_t* out[2] = {row + 64 * q, row + 64 * q + kLabelBytes};
      if (q == 0) {
        detail::hash_nodes_gather_sha_ni_2(headers, cur_slots, first, out, next);
      } else {
        detail::hash_nodes_gather_sha_ni_2(headers + 2 * q, cur_slots, first, out,
                                           for_pair(next, parity ^ 1, q));
      }
    }
    // Node v+1's parents that are node v, from the labels just written.
    for (uint32_t i = 0; self != 0 && i < kBaseDegree; ++i) {
      if ((self >> i & 1) == 0) continue;
      for (size_t s = 0; s < k; ++s) {
        std::memcpy(slots[parity ^ 1][s] + 32 * i, row + s * kLabelBytes, 32);
        if (first && i == 0) {
          std::memcpy(slots[parity ^ 1][s] + kLastBlockOffset, row + s * kLabelBytes, 32);
        }
      }
    }
    if (v + 1 < nodes_) {
      for (size_t i = 0; i < k; ++i) detail::set_header_node(headers[i], v + 1);
    }
    after_node(layer, v, li, reporter);
  }
}

void Pc1Engine::lane(uint32_t layer, size_t li, bool reporter) {
  const double t0 = thread_cpu_seconds();
  try {
    if (lanes_[li].sectors.size() == 1) {
      lane_serial(layer, lanes_[li].sectors[0], reporter);
    } else {
      lane_batch(layer, li, reporter);
    }
    lane_done(layer, li).store(nodes_, std::memory_order_release);
    writer_shared_.wake.notify_all();
  } catch (...) {
    lanes_stop_.store(true, std::memory_order_relaxed);
    hashing_cpu_.fetch_add(thread_cpu_seconds() - t0);
    throw;
  }
  hashing_cpu_.fetch_add(thread_cpu_seconds() - t0);
}

// One thread per lane (see run() for the dealing); each lane gathers and hashes its own sectors,
// so every core runs SHA streams (a batch is throughput bound, not latency bound). The calling
// thread runs lane 0 and reports progress.
void Pc1Engine::label_layer_lanes(uint32_t layer) {
  const size_t lanes = lanes_.size();
  lanes_stop_.store(false, std::memory_order_relaxed);
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(lanes);
  for (size_t l = 1; l < lanes; ++l) {
    threads.emplace_back([this, layer, &errors, l] {
      try {
        lane(layer, l, false);
      } catch (...) {
        errors[l] = std::current_exception();
      }
    });
  }
  try {
    lane(layer, 0, true);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& t : threads) t.join();
  // A lane's own failure wins over the stop it caused in the others; a user cancel is reported
  // as such.
  auto is_stop_echo = [](const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const SdrCancelled&) {
      return true;
    } catch (...) {
      return false;
    }
  };
  for (const auto& e : errors) {
    if (e && !is_stop_echo(e)) std::rethrow_exception(e);
  }
  if (errors[0]) std::rethrow_exception(errors[0]);
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// Producer: gathers the parents of nodes ahead of the hashing thread. DRG parents the hasher has
// not finished yet are left to it (flagged in masks_); they are recent nodes, still in its cache.
void Pc1Engine::produce(uint32_t layer) {
  const bool first = layer == 1;
  const ParentCache& cache = *req_.parent_cache;
  uint64_t done = consumed_.load(std::memory_order_acquire);
  uint64_t next_refresh = 0;
  for (uint64_t v = 1; v < nodes_; ++v) {
    if (v - done >= slots_) done = consumed_.load(std::memory_order_acquire);
    if (v - done >= slots_) {
      // Ring full: the hasher is the bottleneck. Sleep rather than spin (a spinning producer
      // takes cycles from the hasher on an SMT sibling or a shared machine) until a quarter of
      // the ring is free, then refill it in one go.
      while (v - done > slots_ - slots_ / 4) {
        if (stop_.load(std::memory_order_relaxed)) return;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        done = consumed_.load(std::memory_order_acquire);
      }
    }
    if (v + kGatherPrefetch < nodes_) {
      const uint32_t* pf = cache.parents(v + kGatherPrefetch);
      for (size_t s = 0; s < n_; ++s) prefetch_parents(pf, first, done, cur_of(s), prev_of(s));
    }
    if ((v & (kPopulateNodes - 1)) == 1) {
      // Fault in the hasher's output pages ahead of it (the zeroing is off its chain).
      const uint64_t from = v == 1 ? 0 : v - 1 + kPopulateNodes;
      const uint64_t count = v == 1 ? 2 * kPopulateNodes : kPopulateNodes;
      lanes_[0].cur->populate(from, count, kLabelBytes);
    }
    const uint32_t* p = cache.parents(v);
    uint8_t mask = 0;
    for (uint32_t i = 0; i < kBaseDegree; ++i) {
      // Refreshing `done` is a cache-line transfer from the hasher's core: at most once per
      // kPublishEvery nodes (a stale value only hands more parents to the hasher).
      if (p[i] >= done && v >= next_refresh) {
        done = consumed_.load(std::memory_order_acquire);
        next_refresh = v + kPublishEvery;
      }
      if (p[i] >= done) {
        mask |= static_cast<uint8_t>(1u << i);
        continue;
      }
      for (size_t s = 0; s < n_; ++s) {
        std::memcpy(slot(v, s) + i * 32, cur_of(s) + uint64_t{p[i]} * 32, 32);
      }
    }
    if (!first) {
      for (size_t s = 0; s < n_; ++s) {
        uint8_t* sl = slot(v, s);
        const uint8_t* prev = prev_of(s);
        for (uint32_t i = kBaseDegree; i < kDegree; ++i) {
          std::memcpy(sl + i * 32, prev + uint64_t{p[i]} * 32, 32);
        }
        std::memcpy(sl + kLastBlockOffset, sl + 8 * 32, 32);
      }
    }
    sha256::State* st = state(v);
    for (size_t s = 0; s < n_; ++s) {
      detail::set_header_node(sectors_[s].header, v);
      st[s] = detail::header_state(sectors_[s].header);
    }
    masks_[v & (slots_ - 1)] = mask;
    produced_.store(v + 1, std::memory_order_release);
  }
}

// One sector with a producer thread: the hasher only patches the DRG parents the producer could
// not gather yet (recent nodes, in its cache) and runs the serial chain (see ChainNode).
void Pc1Engine::label_layer_pipelined(uint32_t layer) {
  const bool first = layer == 1;
  const ParentCache& cache = *req_.parent_cache;
  produced_.store(1, std::memory_order_relaxed);
  consumed_.store(1, std::memory_order_release);
  stop_.store(false, std::memory_order_relaxed);
  std::thread producer([this, layer] {
    const double t0 = thread_cpu_seconds();
    produce(layer);
    producer_cpu_.store(producer_cpu_.load() + thread_cpu_seconds() - t0);
  });
  auto stop_producer = [&] {
    stop_.store(true, std::memory_order_relaxed);
    producer.join();
  };
  const double t0 = thread_cpu_seconds();
  const uint64_t preempted0 = thread_preemptions();
  try {
    uint8_t* cur = cur_of(0);
    detail::ChainNode nodes[2];
    uint64_t avail = 1;
    // Node v from the ring into nodes[v & 1]; returns the chunks that are node v-1.
    auto prepare = [&](uint64_t v) {
      unsigned spins = 0;
      if (avail <= v) {
        avail = produced_.load(std::memory_order_acquire);
        if (avail <= v) ++stats_.hasher_stalls;
        while (avail <= v) {
          spin_wait(spins);
          avail = produced_.load(std::memory_order_acquire);
        }
      }
      detail::ChainNode& n = nodes[v & 1];
      n.slot = slot(v, 0);
      n.state = *state(v);
      n.done = 1;  // the producer hashed the header
      const uint32_t mask = masks_[v & (slots_ - 1)];
      uint32_t self = 0;
      if (mask != 0) {
        const uint32_t* p = cache.parents(v);
        for (uint32_t i = 0; i < kBaseDegree; ++i) {
          if ((mask >> i & 1) == 0) continue;
          if (p[i] == v - 1) {
            self |= 1u << i;
          } else {
            std::memcpy(n.slot + i * 32, cur + uint64_t{p[i]} * 32, 32);
          }
        }
      }
      if (first && (self & 1) == 0) std::memcpy(n.slot + kLastBlockOffset, n.slot, 32);
      n.prefix = detail::independent_prefix(self);
      return self;
    };
    const uint32_t self1 = prepare(1);
    patch_chunks(slot(1, 0), self1, cur, first);  // node 0 is computed
    for (uint64_t v = 1; v < nodes_; ++v) {
      // The producer wrote these lines on another core: pull them in ahead of the chain.
      if (v + kConsumerPrefetch < avail) {
        const uint64_t ahead = v + kConsumerPrefetch;
        prefetch(state(ahead));
        prefetch(&masks_[ahead & (slots_ - 1)]);
        prefetch(cache.parents(ahead));
        prefetch(cache.parents(ahead) + 8);
        const uint8_t* sl = slot(ahead, 0);
        for (size_t off = 0; off < kSlotBytes; off += 64) prefetch(sl + off);
      }
      // The labels this hasher will patch into node v+4 (mask and parents prefetched above 4
      // nodes ago): recent nodes, but the ring's traffic pushes them out of the L2.
      if (v + kHolePrefetch < avail) {
        const uint64_t h = v + kHolePrefetch;
        const uint32_t mask = masks_[h & (slots_ - 1)];
        if (mask != 0) {
          const uint32_t* p = cache.parents(h);
          for (uint32_t i = 0; i < kBaseDegree; ++i) {
            if ((mask >> i & 1) != 0 && p[i] < v) prefetch(cur + uint64_t{p[i]} * 32);
          }
        }
      }
      uint32_t self = 0;
      if (v + 1 < nodes_) {
        self = prepare(v + 1);
      } else {
        nodes[(v + 1) & 1].prefix = 0;  // no next node
      }
      detail::chain_step(nodes[v & 1], nodes[(v + 1) & 1], first, cur + v * 32, self);
      // Published every kPublishEvery nodes (fewer cache-line transfers to the producer's
      // core); the producer only needs a lower bound. Node v+1's slot stays in use.
      if ((v + 1) % kPublishEvery == 0 || v + 1 == nodes_) {
        consumed_.store(v + 1, std::memory_order_release);
      }
      after_node(layer, v, 0, true);
    }
  } catch (...) {
    hashing_cpu_.fetch_add(thread_cpu_seconds() - t0);
    stop_producer();
    throw;
  }
  hashing_cpu_.fetch_add(thread_cpu_seconds() - t0);
  stats_.hasher_preemptions += thread_preemptions() - preempted0;
  stop_producer();
  lane_done(layer, 0).store(nodes_, std::memory_order_release);
  writer_shared_.wake.notify_all();
}

void Pc1Engine::label_layer(uint32_t layer) {
  if (req_.cancelled && req_.cancelled()) {
    throw SdrCancelled("pc1 cancelled before layer " + std::to_string(layer) +
                       "; complete layers are kept, run PC1 again to resume");
  }
  // `cur` held layer l-2: its writer must be done before it is overwritten.
  if (auto& w = writers_[layer & 1]) {
    w->finish();
    w.reset();
  }
  for (size_t s = 0; s < n_; ++s) {
    detail::node0_label(sectors_[s].replica_id, layer, cur_of(s));
    detail::init_header(sectors_[s].header, sectors_[s].replica_id, layer);
  }
  for (size_t l = 0; l < lanes_.size(); ++l) {
    lane_done(layer, l).store(1, std::memory_order_relaxed);  // node 0
  }
  start_writer(layer);
  // One sector: a producer thread pays off once the layers outgrow the caches (512 MiB: hashing
  // CPU 47 vs 64 ns per compression inline); for small layers the ring's cross-core traffic
  // costs more than the gathering it takes off the hasher (8 MiB: 0.55 s vs 0.46 s inline).
  if (n_ == 1 && req_.threads >= 2 &&
      (layer_bytes_ > kInlineMaxLayerBytes || req_.schedule == Pc1Request::Schedule::producer)) {
    label_layer_pipelined(layer);
  } else {
    label_layer_lanes(layer);
  }
  ++stats_.layers_computed;
  if (req_.progress) req_.progress(Pc1Progress{layer, layers_, nodes_, nodes_});
}

std::vector<Pc1SectorResult> Pc1Engine::run() {
  prepare_sectors();
  check_free_space();

  std::vector<Pc1SectorResult> results(n_);
  for (size_t s = 0; s < n_; ++s) {
    results[s].cache_dir = sectors_[s].dir;
    results[s].layers_resumed = sectors_[s].complete;
    for (uint32_t l = 1; l <= layers_; ++l) {
      results[s].layer_files.push_back(sectors_[s].dir / layer_file_name(l));
    }
  }
  uint32_t start = layers_;
  for (const Sector& sec : sectors_) start = std::min(start, sec.complete);
  ++start;  // first layer to compute

  if (start > layers_) {  // everything on disk already
    for (size_t s = 0; s < n_; ++s) {
      const Fd fd(::open(results[s].layer_files.back().c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0 ||
          !read_exact(fd.get(), results[s].last_label.data(), 32, (nodes_ - 1) * 32)) {
        throw SdrError("cache dir " + sectors_[s].dir.string() + ": cannot read the last layer (" +
                       errno_text(errno) + "); remove the layer files and run PC1 again");
      }
    }
    return results;
  }

  // Sectors are dealt round-robin to the lanes (one sector: one lane, which may add the producer
  // thread); layer_buffer_sizes() follows the same dealing.
  lanes_.clear();
  lanes_.resize(lane_count(n_, req_.threads));
  for (size_t s = 0; s < n_; ++s) {
    Lane& lane = lanes_[s % lanes_.size()];
    sectors_[s].lane = s % lanes_.size();
    sectors_[s].pos = lane.sectors.size();
    lane.sectors.push_back(s);
  }
  for (Lane& lane : lanes_) {
    lane.stride = kLabelBytes * lane.sectors.size();
    lane.cur = std::make_unique<LayerBuffer>(layer_bytes_ * lane.sectors.size(), req_.buffer_pool);
    lane.prev = std::make_unique<LayerBuffer>(layer_bytes_ * lane.sectors.size(), req_.buffer_pool);
    for (const LayerBuffer* b : {lane.cur.get(), lane.prev.get()}) {
      ++(b->reused() ? stats_.buffers_reused : stats_.buffers_mapped);
    }
  }
  // Fresh buffers of large layers: fault them in on idle cycles, current layers first.
  std::vector<const LayerBuffer*> fresh;
  for (const bool current : {true, false}) {
    for (const Lane& lane : lanes_) {
      const LayerBuffer* b = current ? lane.cur.get() : lane.prev.get();
      if (!b->reused() && layer_bytes_ > kInlineMaxLayerBytes) fresh.push_back(b);
    }
  }
  std::optional<Prefaulter> prefaulter;
  if (!fresh.empty()) prefaulter.emplace(std::move(fresh));
  // A resumed run reads the previous layer from its files.
  for (size_t s = 0; s < n_ && start > 1; ++s) {
    const Sector& sec = sectors_[s];
    const fs::path path = sec.dir / layer_file_name(start - 1);
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0 || !read_labels(fd.get(), prev_of(s), lanes_[sec.lane].stride, layer_bytes_)) {
      throw SdrError("cache dir " + sec.dir.string() + ": cannot read " + path.string() +
                     " to resume (" + errno_text(errno) +
                     "); remove the layer files and run PC1 again");
    }
  }
  if (n_ == 1) {  // the producer's ring (only a single sector may run the producer schedule)
    ring_storage_.assign(slots_ * kSlotBytes + 64, 0);
    // 64-byte alignment for the SHA loads.
    auto addr = reinterpret_cast<uintptr_t>(ring_storage_.data());
    const size_t pad = (64 - addr % 64) % 64;
    ring_ = std::span<uint8_t>(ring_storage_.data() + pad, slots_ * kSlotBytes);
    for (uint64_t i = 0; i < slots_; ++i) detail::init_slot_tail(ring_.data() + i * kSlotBytes);
    masks_.assign(slots_, 0);
    states_.assign(slots_, sha256::kInitialState);
  }
  width_ = detail::best_stream_width();
  stats_.stream_width = width_;

  try {
    for (uint32_t l = start; l <= layers_; ++l) {
      label_layer(l);  // writes layer l's files as it goes (LayerWriter)
      // Layer l is now `prev`: only read while layer l+1 is labelled, so its writer may go on.
      for (Lane& lane : lanes_) std::swap(lane.cur, lane.prev);
    }
    for (uint32_t l = layers_ + 1; l <= layers_ + 2; ++l) {  // the last two layers' writers
      if (auto& w = writers_[l & 1]) {
        w->finish();
        w.reset();
      }
    }
  } catch (...) {
    // Files of complete layers are still finished (valid resume points); a write error is
    // reported rather than the stop it caused in the lanes.
    std::exception_ptr write_error;
    for (auto& w : writers_) {
      if (!w) continue;
      if (auto e = w->stop(); e && !write_error) write_error = e;
      w.reset();
    }
    if (write_error) std::rethrow_exception(write_error);
    throw;
  }
  for (size_t s = 0; s < n_; ++s) {
    const uint64_t stride = lanes_[sectors_[s].lane].stride;
    std::memcpy(results[s].last_label.data(), prev_of(s) + (nodes_ - 1) * stride, 32);
  }
  return results;
}

}  // namespace

uint64_t LayerBufferPool::held_bytes() const {
  const std::lock_guard lock(mutex_);
  return held_bytes_;
}

void LayerBufferPool::release() {
  const std::lock_guard lock(mutex_);
  for (const auto& [data, bytes] : held_) ::munmap(data, bytes);
  held_.clear();
  held_bytes_ = 0;
}

void* LayerBufferPool::take(uint64_t bytes) {
  const std::lock_guard lock(mutex_);
  for (auto it = held_.begin(); it != held_.end(); ++it) {
    if (it->second != bytes) continue;
    void* data = it->first;
    held_.erase(it);
    held_bytes_ -= bytes;
    return data;
  }
  // The workload changed (another sector size or lane shape): what is held is stale.
  for (const auto& [data, size] : held_) ::munmap(data, size);
  held_.clear();
  held_bytes_ = 0;
  return nullptr;
}

uint64_t LayerBufferPool::reserve(const std::vector<uint64_t>& sizes,
                                  const std::function<bool()>& stop) {
  // Only what is not held yet: reserving the same shape twice holds it once.
  std::vector<uint64_t> missing;
  {
    const std::lock_guard lock(mutex_);
    std::multiset<uint64_t> held;
    for (const auto& h : held_) held.insert(h.second);
    for (const uint64_t bytes : sizes) {
      if (auto it = held.find(bytes); it != held.end()) {
        held.erase(it);
      } else {
        missing.push_back(bytes);
      }
    }
  }
  constexpr uint64_t kStep = uint64_t{2} << 20;  // one huge page between stop polls
  uint64_t mapped = 0;
  for (const uint64_t bytes : missing) {
    if (stop && stop()) break;
    uint8_t* data = map_layer_memory(bytes);
    for (uint64_t off = 0; off < bytes; off += kStep) {
      if (stop && stop()) break;
      populate_memory(data + off, std::min(kStep, bytes - off));
    }
    give(data, bytes);
    mapped += bytes;
  }
  return mapped;
}

std::vector<uint64_t> layer_buffer_sizes(const SealProof& proof, size_t sectors, unsigned threads) {
  const size_t lanes = lane_count(sectors, threads);
  std::vector<uint64_t> sizes;
  for (size_t l = 0; l < lanes && l < sectors; ++l) {
    const uint64_t lane_sectors = sectors / lanes + (l < sectors % lanes ? 1 : 0);
    const uint64_t bytes = proof.nodes * kLabelBytes * lane_sectors;
    sizes.insert(sizes.end(), {bytes, bytes});  // the current and the previous layer
  }
  return sizes;
}

void LayerBufferPool::give(void* data, uint64_t bytes) {
  {
    const std::lock_guard lock(mutex_);
    if (held_bytes_ + bytes <= max_bytes_) {
      held_.emplace_back(data, bytes);
      held_bytes_ += bytes;
      return;
    }
  }
  ::munmap(data, bytes);
}

namespace detail {

int best_stream_width() {
  static const int kWidth = [] {
    if (const char* forced = std::getenv("SEALHOST_SDR_STREAM_WIDTH")) {
      if (std::strcmp(forced, "2") == 0) return 2;
      if (std::strcmp(forced, "4") == 0) return 4;
    }
    if (!sha256::sha_ni_supported()) return 2;
    alignas(64) static uint8_t blocks[64 * 256] = {};
    sha256::State s[4] = {sha256::kInitialState, sha256::kInitialState, sha256::kInitialState,
                          sha256::kInitialState};
    auto thread_seconds = [] {
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    };
    // Best of several short runs, per compression, in thread CPU time (robust to preemption).
    double x2 = 1e9, x4 = 1e9;
    for (int rep = 0; rep < 15; ++rep) {
      double t0 = thread_seconds();
      for (int i = 0; i < 4; ++i) sha256::compress_x2(s[0], blocks, s[1], blocks, 256);
      x2 = std::min(x2, (thread_seconds() - t0) / (4 * 2 * 256));
      t0 = thread_seconds();
      for (int i = 0; i < 2; ++i) {
        sha256::compress_x4({&s[0], &s[1], &s[2], &s[3]}, {blocks, blocks, blocks, blocks}, 256);
      }
      x4 = std::min(x4, (thread_seconds() - t0) / (2 * 4 * 256));
    }
    // x2 unless x4 is clearly faster: on a busy machine a close call is noise, and a wrong x4
    // costs more (a longer dependency window per call) than a wrong x2.
    return x4 < 0.85 * x2 ? 4 : 2;
  }();
  return kWidth;
}

}  // namespace detail

Bytes32 LayerLabels::label_bytes(uint32_t layer, uint64_t node) const {
  Bytes32 out{};
  std::memcpy(out.data(), label(layer, node), kLabelBytes);
  return out;
}

LayerLabels label_in_memory(const Graph& graph, const ReplicaId& replica_id, uint32_t layers) {
  return label_all(
      graph.nodes(), [&graph](uint64_t v, uint32_t* p) { graph.parents(v, p); }, replica_id,
      layers);
}

LayerLabels label_in_memory(const ParentCache& cache, const ReplicaId& replica_id,
                            uint32_t layers) {
  return label_all(
      cache.nodes(),
      [&cache](uint64_t v, uint32_t* p) {
        std::memcpy(p, cache.parents(v), kParentCacheNodeBytes);
      },
      replica_id, layers);
}

std::string layer_file_name(uint32_t layer) {
  return "sc-02-data-layer-" + std::to_string(layer) + ".dat";
}

std::vector<Pc1SectorResult> run_pc1(const Pc1Request& request) {
  if (request.proof == nullptr) {
    throw SdrError(
        "pc1 request: proof is not set (set Pc1Request::proof to the sector's seal proof)");
  }
  if (request.parent_cache == nullptr) {
    throw SdrError(
        "pc1 request: parent_cache is not set (open it with ParentCache::open_or_create)");
  }
  const SealProof& proof = *request.proof;
  const ParentCache& cache = *request.parent_cache;
  if (cache.nodes() != proof.nodes || cache.porep_id() != porep_id(proof) ||
      cache.api_version() != proof.api_version) {
    throw SdrError("pc1 request: parent cache " + cache.path().string() + " (" +
                   std::to_string(cache.nodes()) + " nodes, porep_id " + to_hex(cache.porep_id()) +
                   ") is not the graph of " + std::string(proof.name) +
                   " (open the parent cache of Graph(proof))");
  }
  if (request.replica_ids.empty() || request.replica_ids.size() > kMaxBatch) {
    throw SdrError("pc1 request: " + std::to_string(request.replica_ids.size()) +
                   " replica ids (give 1 to " + std::to_string(kMaxBatch) + " sectors per call)");
  }
  if (request.cache_dirs.size() != request.replica_ids.size()) {
    throw SdrError("pc1 request: " + std::to_string(request.cache_dirs.size()) +
                   " cache dirs for " + std::to_string(request.replica_ids.size()) +
                   " replica ids (give one cache dir per sector)");
  }
  std::set<std::string> seen;
  for (const auto& dir : request.cache_dirs) {
    if (dir.empty()) throw SdrError("pc1 request: empty cache dir (give each sector a directory)");
    std::string key = fs::weakly_canonical(fs::absolute(dir)).lexically_normal().string();
    while (key.size() > 1 && key.back() == '/') key.pop_back();
    if (!seen.insert(key).second) {
      throw SdrError("pc1 request: cache dir " + dir.string() +
                     " is given twice (each sector needs its own cache dir)");
    }
  }
  const uint32_t layers = request.layers_override != 0 ? request.layers_override : proof.layers;
  if (layers > 64) {
    throw SdrError("pc1 request: layers_override " + std::to_string(layers) +
                   " is not plausible (use 0 for the proof's " + std::to_string(proof.layers) +
                   " layers)");
  }
  Pc1Engine engine(request, layers);
  const auto t0 = std::chrono::steady_clock::now();
  auto fill_stats = [&] {
    if (request.stats == nullptr) return;
    *request.stats = engine.stats_;
    request.stats->producer_cpu_seconds = engine.producer_cpu_.load();
    request.stats->hasher_cpu_seconds = engine.hashing_cpu_.load();
    request.stats->layer_files_direct = engine.writer_direct_files();
    request.stats->wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  try {
    auto results = engine.run();
    fill_stats();
    return results;
  } catch (...) {
    fill_stats();
    throw;
  }
}

}  // namespace sealhost::proofs::sdr
