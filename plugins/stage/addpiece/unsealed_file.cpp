#include "plugins/stage/addpiece/unsealed_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sealhost::stage_addpiece {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string hint_for(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return " (free space on the storage path or seal on another one)";
    case EACCES:
    case EPERM:
    case EROFS:
      return " (check the path's permissions and mount options)";
    case ENOENT:
      return " (check the path; the storage component creates the sector directories)";
    default:
      return " (check the disk and the kernel log)";
  }
}

}  // namespace

sealhost_status status_for_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return SEALHOST_E_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
      return SEALHOST_E_PERMISSION;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return SEALHOST_E_RESOURCE_EXHAUSTED;
    case EWOULDBLOCK:
      return SEALHOST_E_FAILED_PRECONDITION;
    case EISDIR:
      return SEALHOST_E_INVALID_ARGUMENT;
    case ESTALE:
    case ETIMEDOUT:
    case ENOTCONN:
      return SEALHOST_E_UNAVAILABLE;
    default:
      return SEALHOST_E_IO;
  }
}

// ---------------------------------------------------------------------------------------------

UnsealedFile::UnsealedFile(std::filesystem::path path, bool may_create) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0 && errno == ENOENT && may_create) {
    // O_EXCL: if another process creates it between the two opens, we must not claim (and on
    // failure remove) a file we did not create.
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ >= 0) created_ = true;
  }
  if (fd_ < 0) fail("cannot open", errno);
  try {
    lock_and_stat();
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    if (created_) (void)remove();
    throw;
  }
}

void UnsealedFile::lock_and_stat() {
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const std::string msg = "unsealed file " + path_.string() +
                              ": another addpiece is writing it (run one addpiece per sector at "
                              "a time)";
      throw sdk::failed_precondition(msg);
    }
    fail("cannot lock", err);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot stat", errno);
  if (!S_ISREG(st.st_mode)) {
    throw sdk::invalid_argument("unsealed file " + path_.string() +
                                ": not a regular file (pass the sector's unsealed file path)");
  }
  dev_ = st.st_dev;
  ino_ = st.st_ino;
}

UnsealedFile::~UnsealedFile() {
  if (fd_ >= 0) ::close(fd_);  // also drops the flock
}

uint64_t UnsealedFile::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot stat", errno);
  return static_cast<uint64_t>(st.st_size);
}

void UnsealedFile::write_at(std::span<const uint8_t> data, uint64_t offset) {
  const uint8_t* p = data.data();
  size_t len = data.size();
  while (len > 0) {
    const ssize_t w = ::pwrite(fd_, p, len, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail("write at byte " + std::to_string(offset) + " failed", errno);
    p += w;
    len -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
}

bool UnsealedFile::extend_with_zeros(uint64_t from, uint64_t to) {
  if (to <= from) return true;
  int r;
  do {
    r = ::fallocate(fd_, 0, static_cast<off_t>(from), static_cast<off_t>(to - from));
  } while (r != 0 && errno == EINTR);
  if (r == 0) return true;
  const int err = errno;
  // Filesystems without fallocate (some FUSE and network ones) get a sparse extension, which
  // reads as zeros too; only the up-front space reservation is lost.
  if (err != EOPNOTSUPP && err != ENOSYS) {
    fail("cannot allocate bytes " + std::to_string(from) + ".." + std::to_string(to), err);
  }
  while (::ftruncate(fd_, static_cast<off_t>(to)) != 0) {
    if (errno != EINTR) fail("cannot extend to " + std::to_string(to) + " bytes", errno);
  }
  return false;
}

void UnsealedFile::truncate(uint64_t size) {
  while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) fail("cannot truncate to " + std::to_string(size) + " bytes", errno);
  }
}

void UnsealedFile::sync() {
  if (::fdatasync(fd_) != 0) fail("fdatasync failed", errno);
  if (!created_) return;
  const auto dir = path_.parent_path().empty() ? std::filesystem::path(".") : path_.parent_path();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("cannot open its directory to sync it", errno);
  const int r = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (r != 0) fail("fsync of its directory failed", err);
}

std::string UnsealedFile::remove() noexcept {
  if (::unlink(path_.c_str()) != 0) return errno_text(errno);
  return {};
}

void UnsealedFile::fail(const std::string& action, int err) const {
  throw sdk::Error(status_for_errno(err), "unsealed file " + path_.string() + ": " + action + ": " +
                                              errno_text(err) + hint_for(err));
}

// ---------------------------------------------------------------------------------------------

PayloadFile::PayloadFile(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail("cannot open", errno);
  struct stat st {};
  const int stat_err = ::fstat(fd_, &st) == 0 ? 0 : errno;
  if (stat_err != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    if (stat_err != 0) fail("cannot stat", stat_err);
    throw sdk::invalid_argument("payload " + path_.string() +
                                ": not a regular file (pass the path of the deal's data file)");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  // Read-ahead matters when the payload is on a network mount; it is only advice.
  (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

PayloadFile::~PayloadFile() {
  if (fd_ >= 0) ::close(fd_);
}

void PayloadFile::read_exact(std::span<uint8_t> buf) {
  size_t got = 0;
  while (got < buf.size()) {
    const ssize_t r = ::read(fd_, buf.data() + got, buf.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("read at byte " + std::to_string(read_ + got) + " failed", errno);
    if (r == 0) {
      throw sdk::failed_precondition(
          "payload " + path_.string() + ": ended at byte " + std::to_string(read_ + got) + " of " +
          std::to_string(size_) +
          " (the file shrank while being read; add the piece again once the file is complete)");
    }
    got += static_cast<size_t>(r);
  }
  read_ += got;
}

void PayloadFile::expect_end() {
  uint8_t probe = 0;
  ssize_t r;
  do {
    r = ::read(fd_, &probe, 1);
  } while (r < 0 && errno == EINTR);
  if (r < 0) fail("read at byte " + std::to_string(read_) + " failed", errno);
  if (r > 0) {
    throw sdk::failed_precondition(
        "payload " + path_.string() + ": grew past its size of " + std::to_string(size_) +
        " bytes while being read (add the piece again once the file is complete)");
  }
}

void PayloadFile::fail(const std::string& action, int err) const {
  throw sdk::Error(status_for_errno(err), "payload " + path_.string() + ": " + action + ": " +
                                              errno_text(err) + hint_for(err));
}

}  // namespace sealhost::stage_addpiece
