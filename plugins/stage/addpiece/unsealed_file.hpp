// The two files addpiece touches: the sector's unsealed file, which only grows at its end and can
// be cut back to a previous size, and the payload file it reads. Both throw sdk::Error with a
// status derived from errno (ENOSPC -> RESOURCE_EXHAUSTED, EACCES -> PERMISSION, ...) and a
// message naming the file. Neither is thread-safe; one instance per call.
#pragma once

#include <sealhost/sdk/error.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace sealhost::stage_addpiece {

// Maps errno to the ABI status used for a failed file operation.
sealhost_status status_for_errno(int err);

class UnsealedFile {
 public:
  // Opens `path` read-write, creating it (mode 0644) when absent and `may_create`; otherwise a
  // missing file is NOT_FOUND. Takes an exclusive advisory lock (flock) for the life of the object
  // so two appends to one sector cannot interleave; FAILED_PRECONDITION when another holds it.
  UnsealedFile(std::filesystem::path path, bool may_create);
  ~UnsealedFile();
  UnsealedFile(const UnsealedFile&) = delete;
  UnsealedFile& operator=(const UnsealedFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  bool created() const { return created_; }
  uint64_t size() const;
  // Identity of the file, to refuse a payload that is the unsealed file itself.
  uint64_t device() const { return dev_; }
  uint64_t inode() const { return ino_; }

  void write_at(std::span<const uint8_t> data, uint64_t offset);
  // Grows the file from `from` (its current size) to `to` bytes of zeros: allocated with
  // fallocate where the filesystem supports it (so later stages cannot hit ENOSPC in it),
  // otherwise extended with ftruncate (sparse). Returns false when it fell back to ftruncate.
  bool extend_with_zeros(uint64_t from, uint64_t to);
  void truncate(uint64_t size);
  // fdatasync the file; when the call created it, fsync its directory too so the name survives.
  void sync();
  // Removes the file (used to undo a creation). Errors are returned, not thrown.
  std::string remove() noexcept;

 private:
  void lock_and_stat();
  [[noreturn]] void fail(const std::string& action, int err) const;

  std::filesystem::path path_;
  int fd_ = -1;
  bool created_ = false;
  uint64_t dev_ = 0;
  uint64_t ino_ = 0;
};

class PayloadFile {
 public:
  // Opens a regular file read-only and records its size. NOT_FOUND, PERMISSION or
  // INVALID_ARGUMENT (not a regular file).
  explicit PayloadFile(std::filesystem::path path);
  ~PayloadFile();
  PayloadFile(const PayloadFile&) = delete;
  PayloadFile& operator=(const PayloadFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  uint64_t size() const { return size_; }
  uint64_t device() const { return dev_; }
  uint64_t inode() const { return ino_; }

  // Reads exactly buf.size() bytes at the current position. A file that ends early (it shrank
  // since it was opened) is FAILED_PRECONDITION naming the byte where it ended.
  void read_exact(std::span<uint8_t> buf);
  // After size() bytes were read: FAILED_PRECONDITION if the file has grown since it was opened
  // (the piece would not be the file the caller sees).
  void expect_end();

 private:
  [[noreturn]] void fail(const std::string& action, int err) const;

  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t read_ = 0;
  uint64_t dev_ = 0;
  uint64_t ino_ = 0;
};

}  // namespace sealhost::stage_addpiece
