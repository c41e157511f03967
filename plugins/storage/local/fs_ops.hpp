// Filesystem helpers of sealhost.storage.local: error mapping, sizes, durable copies. Plain POSIX
// underneath; every failure becomes an sdk::Error whose message names the file and the fix.
#pragma once

#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/host.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace sealhost::storage_local::fs {

// "<what>: <strerror(err)>" plus " (<fix>)" when a fix is given, with a status that follows errno:
// EACCES/EPERM/EROFS -> PERMISSION, ENOSPC/EDQUOT -> RESOURCE_EXHAUSTED, ENOENT -> NOT_FOUND,
// EEXIST -> ALREADY_EXISTS, anything else -> IO.
sdk::Error os_error(int err, const std::string& what, std::string_view fix = {});

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

enum class Kind { kMissing, kFile, kDirectory, kOther };

// What `p` is, without following a final symlink (a symlink is kOther). Throws on errors other
// than "does not exist".
Kind kind_of(const std::filesystem::path& p);

// Bytes the filesystem has allocated for `p` (st_blocks * 512), summed over a directory tree. This
// is what a file costs in free space, and what Lotus's du-like accounting counts. 0 when missing.
uint64_t disk_usage(const std::filesystem::path& p);

// Apparent size of `p` (st_size), summed over a directory tree. 0 when missing.
uint64_t logical_size(const std::filesystem::path& p);

// fsyncs a file or directory by path.
void fsync_path(const std::filesystem::path& p);

// Removes `p` (a file or a directory tree); a missing path is not an error.
void remove_tree(const std::filesystem::path& p);

// Replaces `p` with `content` atomically: writes "<p>.tmp", optionally fsyncs it, renames it over
// `p`, optionally fsyncs the directory.
void write_file_atomic(const std::filesystem::path& p, std::string_view content, bool fsync);

// Shared state of one multi-file copy: progress across all files, cancellation, tuning.
struct CopyState {
  const sdk::Job& job;
  std::string phase;        // reported with progress ("sealed", "cache")
  uint64_t total = 0;       // bytes the whole operation copies
  uint64_t done = 0;        // bytes copied so far
  size_t chunk = 8u << 20;  // bytes per step; cancel is checked between steps
  bool fsync = true;
};

// Copies the regular file `src` to `dst`, which must not exist. Checks the job's cancel flag
// between chunks and throws sdk::Error(CANCELLED) when set; on any failure `dst` is removed.
void copy_file(const std::filesystem::path& src, const std::filesystem::path& dst, CopyState& st);

// Copies the directory tree `src` to `dst`, which must not exist (regular files, directories and
// symlinks). Same cancellation rules; on failure whatever was created under `dst` is left for the
// caller to remove (it copies into a temporary name).
void copy_tree(const std::filesystem::path& src, const std::filesystem::path& dst, CopyState& st);

}  // namespace sealhost::storage_local::fs
