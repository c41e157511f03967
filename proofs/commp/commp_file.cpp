// File front ends: CommP of a payload file and the on-disk TreeD of a padded unsealed file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proofs/commp/commp.hpp"
#include "proofs/commp/subtree.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::commp {
namespace {

class File {
 public:
  File(const std::filesystem::path& path, int flags, const char* what) : path_(path) {
    fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(what, "cannot open");
  }
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  uint64_t size(const char* what) const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail(what, "cannot stat");
    if (!S_ISREG(st.st_mode)) {
      throw CommpError(std::string(what) + " " + path_.string() +
                       ": not a regular file (pass a file path)");
    }
    return static_cast<uint64_t>(st.st_size);
  }

  // Reads exactly buf.size() bytes at the current position; throws on error or early EOF.
  void read_exact(std::span<uint8_t> buf, uint64_t offset, const char* what) const {
    size_t got = 0;
    while (got < buf.size()) {
      const ssize_t r = ::read(fd_, buf.data() + got, buf.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) fail(what, "read failed");
      if (r == 0) {
        throw CommpError(std::string(what) + " " + path_.string() + ": short read at byte " +
                         std::to_string(offset + got) +
                         " (the file shrank while being read; retry once it is complete)");
      }
      got += static_cast<size_t>(r);
    }
  }

  void write_at(const uint8_t* data, size_t len, uint64_t offset, const char* what) const {
    while (len > 0) {
      const ssize_t w = ::pwrite(fd_, data, len, static_cast<off_t>(offset));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail(what, "write failed");
      data += w;
      len -= static_cast<size_t>(w);
      offset += static_cast<uint64_t>(w);
    }
  }

  int fd() const { return fd_; }

 private:
  [[noreturn]] void fail(const char* what, const char* action) const {
    throw CommpError(std::string(what) + " " + path_.string() + ": " + action + ": " +
                     std::strerror(errno) + " (check the path and its permissions)");
  }

  std::filesystem::path path_;
  int fd_ = -1;
};

// Reads the file in batch-sized blocks on its own thread, one block ahead of the hasher, so disk
// reads overlap hashing. Blocks are whole hasher batches, which the hasher consumes without a copy.
class DoubleBufferedReader {
 public:
  DoubleBufferedReader(const File& file, uint64_t total, size_t block, const char* what)
      : file_(file), total_(total), what_(what) {
    for (auto& s : slots_) s.data.resize(static_cast<size_t>(std::min<uint64_t>(block, total)));
    thread_ = std::thread([this] { read_loop(); });
  }

  ~DoubleBufferedReader() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  DoubleBufferedReader(const DoubleBufferedReader&) = delete;
  DoubleBufferedReader& operator=(const DoubleBufferedReader&) = delete;

  // The next block in file order; valid until release(). Rethrows read errors.
  std::span<const uint8_t> next() {
    Slot& s = slots_[consumer_ % 2];
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return s.full; });
    if (error_) std::rethrow_exception(error_);
    return {s.data.data(), s.len};
  }

  void release() {
    {
      std::lock_guard lock(mutex_);
      slots_[consumer_ % 2].full = false;
    }
    ++consumer_;
    cv_.notify_all();
  }

 private:
  struct Slot {
    std::vector<uint8_t> data;
    size_t len = 0;
    bool full = false;
  };

  void read_loop() {
    uint64_t offset = 0;
    for (uint64_t k = 0; offset < total_; ++k) {
      Slot& s = slots_[k % 2];
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || !s.full; });
        if (stop_) return;
      }
      const size_t n = static_cast<size_t>(std::min<uint64_t>(s.data.size(), total_ - offset));
      std::exception_ptr error;
      try {
        file_.read_exact({s.data.data(), n}, offset, what_);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard lock(mutex_);
        s.len = n;
        s.full = true;
        if (error) error_ = error;
      }
      cv_.notify_all();
      if (error) return;
      offset += n;
    }
  }

  const File& file_;
  uint64_t total_;
  const char* what_;
  Slot slots_[2];
  uint64_t consumer_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace

CommpResult commp_file(const std::filesystem::path& path, unsigned threads,
                       std::function<void(uint64_t, uint64_t)> progress) {
  constexpr const char* kWhat = "commp input";
  File file(path, O_RDONLY, kWhat);
  const uint64_t total = file.size(kWhat);
  if (total < kMinPayloadBytes) {
    throw CommpError(std::string(kWhat) + " " + path.string() + ": " + std::to_string(total) +
                     " bytes is below the minimum payload of " + std::to_string(kMinPayloadBytes) +
                     " bytes (add data or pad the payload)");
  }
  if (padded_piece_size(total) > kMaxPaddedPieceBytes) {
    throw CommpError(std::string(kWhat) + " " + path.string() + ": " + std::to_string(total) +
                     " bytes does not fit in the largest (64 GiB) piece (split the file)");
  }
  ::posix_fadvise(file.fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
  CommpHasher hasher(threads, InputKind::kUnpadded);
  DoubleBufferedReader reader(file, total, hasher.batch_bytes(), kWhat);
  uint64_t done = 0;
  while (done < total) {
    const std::span<const uint8_t> batch = reader.next();
    hasher.update(batch);
    done += batch.size();
    reader.release();
    if (progress) progress(done, total);
  }
  return hasher.finish();
}

Node write_tree_d(const std::filesystem::path& padded_unsealed,
                  const std::filesystem::path& tree_d_path) {
  constexpr const char* kIn = "tree-d input";
  constexpr const char* kOut = "tree-d output";
  File in(padded_unsealed, O_RDONLY, kIn);
  const uint64_t size = in.size(kIn);
  const uint64_t leaves = size / kNodeBytes;
  if (size % kNodeBytes != 0 || leaves < 2 || !std::has_single_bit(leaves)) {
    throw CommpError(std::string(kIn) + " " + padded_unsealed.string() + ": " +
                     std::to_string(size) +
                     " bytes is not a power-of-two number (>= 2) of 32-byte nodes "
                     "(pass a padded unsealed sector file)");
  }
  const unsigned height = static_cast<unsigned>(std::countr_zero(leaves));
  std::vector<uint64_t> level_start(height + 1);
  for (unsigned l = 1; l <= height; ++l) {
    level_start[l] = level_start[l - 1] + (leaves >> (l - 1)) * kNodeBytes;
  }
  File out(tree_d_path, O_WRONLY | O_CREAT | O_TRUNC, kOut);
  if (::ftruncate(out.fd(), static_cast<off_t>((2 * leaves - 1) * kNodeBytes)) != 0) {
    throw CommpError(std::string(kOut) + " " + tree_d_path.string() +
                     ": cannot size the file: " + std::strerror(errno) + " (check free space)");
  }
  ::posix_fadvise(in.fd(), 0, 0, POSIX_FADV_SEQUENTIAL);

  // Chunks of 2^chunk_level leaves are hashed entirely in memory; every row of the chunk goes to
  // its level's region. Nodes above the chunk level arrive one at a time and are paired here.
  const unsigned chunk_level = std::min(height, 15u);
  const uint64_t chunk_bytes = kNodeBytes << chunk_level;
  std::vector<uint8_t> chunk(chunk_bytes);
  std::vector<uint8_t> row(chunk_bytes / 2);
  std::vector<uint64_t> count(height + 1, 0);
  std::vector<Node> left(height + 1);
  Node root{};

  auto emit = [&](Node node, unsigned level) {
    for (;;) {
      out.write_at(node.data(), kNodeBytes, level_start[level] + count[level] * kNodeBytes, kOut);
      if (level == height) {
        root = node;
        return;
      }
      if (count[level]++ % 2 == 0) {
        left[level] = node;
        return;
      }
      sha256::sha254_node(left[level].data(), node.data(), node.data());
      ++level;
    }
  };

  for (uint64_t c = 0; c < leaves >> chunk_level; ++c) {
    in.read_exact(chunk, c * chunk_bytes, kIn);
    out.write_at(chunk.data(), chunk_bytes, c * chunk_bytes, kOut);
    const uint8_t* src = chunk.data();
    for (unsigned l = 1; l <= chunk_level; ++l) {
      const uint64_t n = uint64_t{1} << (chunk_level - l);
      sha256::sha254_nodes(src, row.data(), n);
      if (l < chunk_level) {
        out.write_at(row.data(), n * kNodeBytes, level_start[l] + c * n * kNodeBytes, kOut);
      }
      src = row.data();
    }
    Node chunk_root;
    std::memcpy(chunk_root.data(), row.data(), kNodeBytes);
    emit(chunk_root, chunk_level);
  }
  return root;
}

}  // namespace sealhost::proofs::commp
