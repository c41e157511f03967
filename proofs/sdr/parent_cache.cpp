#include "proofs/sdr/parent_cache.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <iostream>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::sdr {
namespace fs = std::filesystem;
namespace {

// storage-proofs-porep/parent_cache.json at rust-fil-proofs
// 87348a749d80447d00c595af834a8ed73c09e4d9 (spec sdr.md §7).
constexpr KnownParentCacheDigest kKnown[] = {
    {"v28-sdr-parent-494d91dc80f2df5272c4b9e129bc7ade9405225993af9fe34e6542a39a47554b",
     "StackedDrg2KiBV1_1", "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97"},
    {"v28-sdr-parent-3f0eef38bb48af1f48ad65e14eb85b4ebfc167cec18cd81764f6d998836c9899",
     "StackedDrg2KiBV1", "3da49221e2ed55371b86d0bf3d6526fcf128af61bed904f966428db1b531750d"},
    {"v28-sdr-parent-5eed212119fd91aa6220a27f31a8966444a9381842bceb3a1ea61525bd47a5b5",
     "StackedDrg8MiBV1_1", "03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab"},
    {"v28-sdr-parent-dcdabb0fbe4364bf0ac28b6a18c66de246409fa1a9020a00f33fb3e3053da6dc",
     "StackedDrg8MiBV1", "a76604f2f59f2744c7151653bbb1d8596b6b57d295e6fa6c1f0c41d725b502ce"},
    {"v28-sdr-parent-7ba215a1d2345774ab90b8cb1158d296e409d6068819d7b8c7baf0b25d63dc34",
     "StackedDrg512MiBV1_1", "b5877d1963793efebc261fd8fde4dd6bc59e6b5c7abf52617a4ee023b8dc173a"},
    {"v28-sdr-parent-2aa9c77c3e58259481351cc4be2079cc71e1c9af39700866545c043bfa30fb42",
     "StackedDrg512MiBV1", "3adcc092423aa76d6a7184016893406da44dd974b219a89cd3ece25e4e3018f5"},
    {"v28-sdr-parent-21981246c370f9d76c7a77ab273d94bde0ceb4e938292334960bce05585dc117",
     "StackedDrg32GiBV1_1", "93deeac5e3052b6927467d4b2641bb782f05491de18d510147c93eeedd8672da"},
    {"v28-sdr-parent-e1fa5d5b811ddbd118be3412c4a8c329156b8b8acc72632bca459455b5a05a13",
     "StackedDrg32GiBV1", "3c4f9841fcc75aed8c695800e58d08480629f25af3a2aefd81904181d75cc0b6"},
    {"v28-sdr-parent-4905486b7af19558ac3649bc6261411858b6add534438878c4ee3b29d8b9de0b",
     "StackedDrg64GiBV1_1", "2698b74eb2606b55b98d8b095e18b6320b47f46e00075956d48640ccd1641b03"},
    {"v28-sdr-parent-8a99e8d6b6be7ab87a56b632e6739ff201c23ea14e99737c74690f0e265574d6",
     "StackedDrg64GiBV1", "2778a732ad46a7dc18e0564dfdf59fd321dcde74ab476fd6d3c4e6735d7cd89c"},
};

constexpr uint64_t kChunkNodes = 1 << 14;  // 896 KiB of cache per write

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

[[noreturn]] void io_fail(const fs::path& path, const std::string& what, int err) {
  throw SdrError("parent cache " + path.string() + ": " + what + " failed: " + errno_text(err) +
                 " (check the directory's permissions and free space)");
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
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
  if (fd < 0) return;  // best effort: some filesystems refuse directory fds
  ::fsync(fd);
  ::close(fd);
}

void default_warn(std::string_view msg) {
  std::cerr << "warning: " << msg << "\n";
}

// Temporary files "<name>.tmp.<pid>.<n>" left by creators that died are removed; files of live
// processes (possibly generating right now) are left alone.
void remove_stale_temps(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  const std::string prefix = name + ".tmp.";
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) != 0) continue;
    const std::string rest = file.substr(prefix.size());
    const long pid = std::strtol(rest.c_str(), nullptr, 10);
    if (pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;
    fs::remove(entry.path(), ec);
  }
}

std::string sha256_of_fd(int fd, uint64_t size, const fs::path& path) {
  sha256::Hasher h;
  std::vector<uint8_t> buf(8 << 20);
  uint64_t off = 0;
  while (off < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - off));
    const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) io_fail(path, "read", n < 0 ? errno : EIO);
    h.update({buf.data(), static_cast<size_t>(n)});
    off += static_cast<uint64_t>(n);
  }
  return to_hex(h.finish());
}

}  // namespace

std::span<const KnownParentCacheDigest> known_parent_cache_digests() {
  return kKnown;
}

std::optional<std::string_view> known_parent_cache_digest(std::string_view file_id_or_name) {
  constexpr std::string_view kSuffix = ".cache";
  if (file_id_or_name.size() > kSuffix.size() &&
      file_id_or_name.substr(file_id_or_name.size() - kSuffix.size()) == kSuffix) {
    file_id_or_name.remove_suffix(kSuffix.size());
  }
  for (const auto& k : kKnown) {
    if (k.file_id == file_id_or_name) return k.sha256_hex;
  }
  return std::nullopt;
}

std::string parent_cache_file_name(const Graph& graph) {
  return "v28-sdr-parent-" + graph.cache_digest_hex() + ".cache";
}

void ParentCache::generate(const Graph& graph, const fs::path& path, unsigned threads) {
  const Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) io_fail(path, "create", errno);
  const uint64_t nodes = graph.nodes();
  if (::ftruncate(fd.get(), static_cast<off_t>(nodes * kParentCacheNodeBytes)) != 0) {
    io_fail(path, "resize to " + std::to_string(nodes * kParentCacheNodeBytes) + " bytes", errno);
  }
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const uint64_t chunks = (nodes + kChunkNodes - 1) / kChunkNodes;
  threads = static_cast<unsigned>(std::min<uint64_t>(threads, chunks));

  std::atomic<uint64_t> next_chunk{0};
  std::atomic<int> error{0};
  auto work = [&] {
    std::vector<uint32_t> buf(kChunkNodes * kDegree);
    for (;;) {
      if (error.load(std::memory_order_relaxed) != 0) return;
      const uint64_t c = next_chunk.fetch_add(1);
      if (c >= chunks) return;
      const uint64_t first = c * kChunkNodes;
      const uint64_t count = std::min(kChunkNodes, nodes - first);
      graph.parents_range(first, count, buf.data());
      // Little-endian hosts only (x86-64, aarch64): the u32 array is the file's byte layout.
      const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
      size_t left = count * kParentCacheNodeBytes;
      off_t off = static_cast<off_t>(first * kParentCacheNodeBytes);
      while (left > 0) {
        const ssize_t n = ::pwrite(fd.get(), p, left, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          int expected = 0;
          error.compare_exchange_strong(expected, n < 0 ? errno : EIO);
          return;
        }
        p += n;
        left -= static_cast<size_t>(n);
        off += n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error.load() != 0) io_fail(path, "write", error.load());
  if (::fsync(fd.get()) != 0) io_fail(path, "fsync", errno);
}

ParentCache ParentCache::open_or_create(const Graph& graph, const fs::path& dir,
                                        const ParentCacheOptions& options) {
  const auto warn = options.warn ? options.warn : default_warn;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw SdrError("parent cache dir " + dir.string() + ": cannot create it: " + ec.message() +
                   " (create it or point the parent cache at a writable directory)");
  }
  const std::string name = parent_cache_file_name(graph);
  const fs::path path = dir / name;
  const uint64_t expected_size = graph.nodes() * kParentCacheNodeBytes;
  const auto known = known_parent_cache_digest(name);

  ParentCache cache;
  cache.nodes_ = graph.nodes();
  cache.api_ = graph.api_version();
  cache.porep_id_ = graph.porep_id();
  cache.path_ = path;

  bool need_generate = true;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (static_cast<uint64_t>(st.st_size) != expected_size) {
      warn("parent cache " + path.string() + ": size " + std::to_string(st.st_size) +
           " bytes, expected " + std::to_string(expected_size) + "; regenerating it");
    } else if (options.verify && known) {
      const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) io_fail(path, "open", errno);
      const std::string digest = sha256_of_fd(fd.get(), expected_size, path);
      if (digest == *known) {
        need_generate = false;
        cache.sha256_hex_ = digest;
      } else {
        warn("parent cache " + path.string() + ": SHA-256 " + digest + " does not match the " +
             "upstream digest " + std::string(*known) + "; regenerating it");
      }
    } else {
      need_generate = false;
    }
  } else if (errno != ENOENT) {
    io_fail(path, "stat", errno);
  }

  if (need_generate) {
    remove_stale_temps(dir, name);
    static std::atomic<uint64_t> counter{0};
    const fs::path tmp = dir / (name + ".tmp." + std::to_string(::getpid()) + "." +
                                std::to_string(counter.fetch_add(1)));
    try {
      generate(graph, tmp, options.threads);
      if (options.verify && known) {
        const Fd fd(::open(tmp.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) io_fail(tmp, "open", errno);
        const std::string digest = sha256_of_fd(fd.get(), expected_size, tmp);
        if (digest != *known) {
          throw SdrError("parent cache " + path.string() + ": freshly generated file has SHA-256 " +
                         digest + ", upstream manifest says " + std::string(*known) +
                         " (this is a bug in proofs/sdr: report it; do not seal with it)");
        }
        cache.sha256_hex_ = digest;
      }
      if (::rename(tmp.c_str(), path.c_str()) != 0)
        io_fail(path, "rename from " + tmp.string(), errno);
    } catch (...) {
      fs::remove(tmp, ec);
      throw;
    }
    fsync_dir(dir);
    cache.generated_ = true;
  }

  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) io_fail(path, "open", errno);
  if (::fstat(fd.get(), &st) != 0) io_fail(path, "stat", errno);
  if (static_cast<uint64_t>(st.st_size) != expected_size) {
    throw SdrError("parent cache " + path.string() + ": changed size while opening (" +
                   std::to_string(st.st_size) + " bytes, expected " +
                   std::to_string(expected_size) + "); another process is rewriting it, retry");
  }
  void* map = ::mmap(nullptr, expected_size, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (map == MAP_FAILED) io_fail(path, "mmap", errno);
  ::madvise(map, expected_size, MADV_SEQUENTIAL);
  cache.data_ = static_cast<const uint32_t*>(map);
  cache.map_bytes_ = expected_size;
  return cache;
}

ParentCache::ParentCache(ParentCache&& other) noexcept {
  *this = std::move(other);
}

ParentCache& ParentCache::operator=(ParentCache&& other) noexcept {
  if (this == &other) return *this;
  unmap();
  data_ = std::exchange(other.data_, nullptr);
  map_bytes_ = std::exchange(other.map_bytes_, 0);
  nodes_ = other.nodes_;
  api_ = other.api_;
  porep_id_ = other.porep_id_;
  path_ = std::move(other.path_);
  generated_ = other.generated_;
  sha256_hex_ = std::move(other.sha256_hex_);
  return *this;
}

ParentCache::~ParentCache() {
  unmap();
}

void ParentCache::unmap() noexcept {
  if (data_ != nullptr) ::munmap(const_cast<uint32_t*>(data_), map_bytes_);
  data_ = nullptr;
  map_bytes_ = 0;
}

std::string ParentCache::sha256_hex() const {
  if (sha256_hex_.empty() && data_ != nullptr) {
    sha256_hex_ = to_hex(sha256::digest({reinterpret_cast<const uint8_t*>(data_), map_bytes_}));
  }
  return sha256_hex_;
}

}  // namespace sealhost::proofs::sdr
