#include "plugins/storage/local/fs_ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

namespace sealhost::storage_local::fs {
namespace {

namespace stdfs = std::filesystem;

int open_retry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Calls fn(name) for each entry of the directory `dir` except "." and "..".
template <class Fn>
void for_each_entry(const stdfs::path& dir, Fn&& fn) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) {
    if (errno == ENOENT) return;  // removed while we looked: it holds nothing any more
    throw os_error(errno, "directory " + dir.string() + ": cannot be listed");
  }
  while (true) {
    errno = 0;
    const dirent* e = ::readdir(d.get());
    if (!e) {
      if (errno != 0) throw os_error(errno, "directory " + dir.string() + ": cannot be listed");
      return;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    fn(name);
  }
}

// Sums `field(st)` over `p` and, for a directory, everything below it (symlinks not followed).
template <class Field>
uint64_t sum_tree(const stdfs::path& p, Field field) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return 0;
    throw os_error(errno, "file " + p.string() + ": cannot be examined");
  }
  uint64_t total = field(st);
  if (S_ISDIR(st.st_mode)) {
    for_each_entry(p, [&](std::string_view name) { total += sum_tree(p / name, field); });
  }
  return total;
}

void write_all(int fd, const uint8_t* data, size_t len, const stdfs::path& p) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw os_error(errno, "file " + p.string() + ": write failed",
                     "free space on its filesystem or check the device");
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

void fsync_fd(int fd, const stdfs::path& p) {
  if (::fsync(fd) != 0) {
    throw os_error(errno, "file " + p.string() + ": fsync failed", "check the device");
  }
}

// Copies [0, size) of in to out in chunks with copy_file_range, falling back to read/write where
// the kernel cannot (other filesystem types, old kernels). Returns bytes copied.
void copy_contents(int in, int out, const stdfs::path& src, const stdfs::path& dst, CopyState& st) {
  bool use_cfr = true;
  std::vector<uint8_t> buf;
  while (true) {
    st.job.check_cancel("copy of " + src.string());
    ssize_t n = -1;
    if (use_cfr) {
      n = ::copy_file_range(in, nullptr, out, nullptr, st.chunk, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
                    errno == EPERM)) {
        use_cfr = false;
        buf.resize(st.chunk);
        continue;
      }
    } else {
      n = ::read(in, buf.data(), buf.size());
      if (n > 0) write_all(out, buf.data(), static_cast<size_t>(n), dst);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      throw os_error(errno, "copy " + src.string() + " -> " + dst.string() + " failed",
                     "check both devices and the free space of the destination");
    }
    if (n == 0) return;
    st.done += static_cast<uint64_t>(n);
    st.job.progress(st.done, st.total, st.phase);
  }
}

}  // namespace

sdk::Error os_error(int err, const std::string& what, std::string_view fix) {
  std::string msg = what + ": " + std::strerror(err);
  if (!fix.empty()) msg += " (" + std::string(fix) + ")";
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return sdk::permission(msg);
    case ENOSPC:
    case EDQUOT:
      return sdk::exhausted(msg);
    case ENOENT:
      return sdk::not_found(msg);
    case EEXIST:
      return sdk::already_exists(msg);
    default:
      return sdk::io_error(msg);
  }
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Kind kind_of(const stdfs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Kind::kMissing;
    throw os_error(errno, "file " + p.string() + ": cannot be examined");
  }
  if (S_ISREG(st.st_mode)) return Kind::kFile;
  if (S_ISDIR(st.st_mode)) return Kind::kDirectory;
  return Kind::kOther;
}

uint64_t disk_usage(const stdfs::path& p) {
  return sum_tree(p,
                  [](const struct stat& st) { return static_cast<uint64_t>(st.st_blocks) * 512; });
}

uint64_t logical_size(const stdfs::path& p) {
  return sum_tree(p, [](const struct stat& st) {
    return S_ISDIR(st.st_mode) ? uint64_t{0} : static_cast<uint64_t>(st.st_size);
  });
}

void fsync_path(const stdfs::path& p) {
  UniqueFd fd(open_retry(p.c_str(), O_RDONLY));
  if (!fd) throw os_error(errno, "file " + p.string() + ": cannot be opened for fsync");
  fsync_fd(fd.get(), p);
}

void remove_tree(const stdfs::path& p) {
  std::error_code ec;
  stdfs::remove_all(p, ec);
  if (ec) {
    throw os_error(ec.value(), "file " + p.string() + ": cannot be removed",
                   "check its permissions");
  }
}

void write_file_atomic(const stdfs::path& p, std::string_view content, bool fsync) {
  stdfs::path tmp = p;
  tmp += ".tmp";
  {
    UniqueFd fd(open_retry(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (!fd) {
      throw os_error(errno, "file " + tmp.string() + ": cannot be created",
                     "check the directory's permissions");
    }
    try {
      write_all(fd.get(), reinterpret_cast<const uint8_t*>(content.data()), content.size(), tmp);
      if (fsync) fsync_fd(fd.get(), tmp);
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
  }
  if (::rename(tmp.c_str(), p.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw os_error(err, "file " + p.string() + ": cannot be replaced");
  }
  if (fsync) fsync_path(p.parent_path());
}

void copy_file(const stdfs::path& src, const stdfs::path& dst, CopyState& st) {
  UniqueFd in(open_retry(src.c_str(), O_RDONLY));
  if (!in) throw os_error(errno, "file " + src.string() + ": cannot be opened for reading");
  UniqueFd out(open_retry(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644));
  if (!out) {
    throw os_error(errno, "file " + dst.string() + ": cannot be created",
                   "check the destination directory");
  }
  try {
    copy_contents(in.get(), out.get(), src, dst, st);
    if (st.fsync) fsync_fd(out.get(), dst);
  } catch (...) {
    out = UniqueFd();
    ::unlink(dst.c_str());
    throw;
  }
}

void copy_tree(const stdfs::path& src, const stdfs::path& dst, CopyState& st) {
  if (::mkdir(dst.c_str(), 0755) != 0) {
    throw os_error(errno, "directory " + dst.string() + ": cannot be created");
  }
  std::vector<std::string> names;
  for_each_entry(src, [&](std::string_view name) { names.emplace_back(name); });
  for (const auto& name : names) {
    const stdfs::path from = src / name;
    const stdfs::path to = dst / name;
    switch (kind_of(from)) {
      case Kind::kMissing:
        break;  // vanished since listed: nothing to copy
      case Kind::kFile:
        copy_file(from, to, st);
        break;
      case Kind::kDirectory:
        copy_tree(from, to, st);
        break;
      case Kind::kOther: {
        std::error_code ec;
        stdfs::copy_symlink(from, to, ec);
        if (ec) {
          throw os_error(ec.value(), "file " + from.string() + ": cannot be copied",
                         "cache directories should hold only regular files");
        }
        break;
      }
    }
  }
  if (st.fsync) fsync_path(dst);
}

}  // namespace sealhost::storage_local::fs
