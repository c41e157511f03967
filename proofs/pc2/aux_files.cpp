#include "proofs/pc2/aux_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proofs/field/fr.hpp"
#include "proofs/merkle/tree_store.hpp"

namespace sealhost::proofs::pc2 {
namespace {

// Longest string accepted inside t_aux (paths, ids); protects against a corrupt length prefix.
constexpr uint64_t kMaxString = 1U << 16;
// Most layers any proof uses is 11; allow head-room but not a corrupt count.
constexpr uint64_t kMaxLabels = 64;
constexpr uint64_t kMaxAuxFileBytes = 1U << 22;

void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put_u64(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}
void put_config(std::vector<uint8_t>& out, const StoreConfig& c) {
  put_string(out, c.path);
  put_string(out, c.id);
  if (c.size) {
    out.push_back(1);
    put_u64(out, *c.size);
  } else {
    out.push_back(0);
  }
  put_u64(out, c.rows_to_discard);
}

class Parser {
 public:
  Parser(const std::vector<uint8_t>& bytes, const std::string& what) : b_(bytes), what_(what) {}

  uint8_t u8(const char* field) {
    need(1, field);
    return b_[pos_++];
  }
  uint64_t u64(const char* field) {
    need(8, field);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b_[pos_ + i]) << (8 * i);
    pos_ += 8;
    return v;
  }
  std::string string(const char* field) {
    const uint64_t len = u64(field);
    if (len > kMaxString)
      fail(std::string(field) + " length " + std::to_string(len) + " is absurd");
    need(len, field);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), len);
    pos_ += len;
    return s;
  }
  StoreConfig config(const char* field) {
    StoreConfig c;
    c.path = string(field);
    c.id = string(field);
    const uint8_t tag = u8(field);
    if (tag == 1) {
      c.size = u64(field);
    } else if (tag != 0) {
      fail(std::string(field) + ": option tag " + std::to_string(tag) + " (expected 0 or 1)");
    }
    c.rows_to_discard = u64(field);
    return c;
  }
  void finish() {
    if (pos_ != b_.size()) {
      fail(std::to_string(b_.size() - pos_) + " trailing bytes after the last field");
    }
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw AuxError(what_ + ": " + why + " at byte " + std::to_string(pos_) +
                   "; the file is damaged or not a rust-fil-proofs " + what_ +
                   " (re-run PC2 to rewrite it)");
  }

 private:
  void need(uint64_t n, const char* field) {
    if (n > b_.size() - pos_) fail(std::string("truncated inside ") + field);
  }
  const std::vector<uint8_t>& b_;
  const std::string& what_;
  size_t pos_ = 0;
};

std::string errno_text() {
  return std::strerror(errno);
}

void write_atomically(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  auto tmp = path;
  tmp += ".tmp";
  write_file_bytes(tmp, bytes);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw AuxError(path.string() + ": cannot rename the finished file into place (" + ec.message() +
                   "); check the cache directory's permissions");
  }
}

}  // namespace

std::vector<uint8_t> serialize_p_aux(const PersistentAux& aux) {
  std::vector<uint8_t> out(aux.comm_c.begin(), aux.comm_c.end());
  out.insert(out.end(), aux.comm_r_last.begin(), aux.comm_r_last.end());
  return out;
}

PersistentAux parse_p_aux(const std::vector<uint8_t>& bytes, const std::string& what) {
  if (bytes.size() != 64) {
    throw AuxError(what + ": " + std::to_string(bytes.size()) +
                   " bytes, expected 64 (comm_c || comm_r_last); the file is damaged, re-run PC2");
  }
  PersistentAux aux;
  std::memcpy(aux.comm_c.data(), bytes.data(), 32);
  std::memcpy(aux.comm_r_last.data(), bytes.data() + 32, 32);
  if (!field::Fr::from_bytes(aux.comm_c.data())) {
    throw AuxError(what + ": comm_c is not a canonical field element; the file is damaged");
  }
  if (!field::Fr::from_bytes(aux.comm_r_last.data())) {
    throw AuxError(what + ": comm_r_last is not a canonical field element; the file is damaged");
  }
  return aux;
}

std::vector<uint8_t> serialize_t_aux(const TemporaryAux& aux) {
  std::vector<uint8_t> out;
  put_u64(out, aux.labels.size());
  for (const auto& c : aux.labels) put_config(out, c);
  put_config(out, aux.tree_d);
  put_config(out, aux.tree_r_last);
  put_config(out, aux.tree_c);
  return out;
}

TemporaryAux parse_t_aux(const std::vector<uint8_t>& bytes, const std::string& what) {
  Parser p(bytes, what);
  TemporaryAux aux;
  const uint64_t count = p.u64("labels count");
  if (count == 0 || count > kMaxLabels) {
    p.fail("label count " + std::to_string(count) + " is out of range 1.." +
           std::to_string(kMaxLabels));
  }
  for (uint64_t i = 0; i < count; ++i) aux.labels.push_back(p.config("labels"));
  aux.tree_d = p.config("tree_d_config");
  aux.tree_r_last = p.config("tree_r_last_config");
  aux.tree_c = p.config("tree_c_config");
  p.finish();
  return aux;
}

TemporaryAux default_t_aux(const std::filesystem::path& cache_dir, uint64_t sector_bytes,
                           size_t layers) {
  const auto shape = merkle::TreeShape::for_sector(sector_bytes);
  const uint64_t nodes = sector_bytes / 32;
  const std::string path = cache_dir.string();
  TemporaryAux aux;
  for (size_t l = 1; l <= layers; ++l) {
    aux.labels.push_back({path, "layer-" + std::to_string(l), nodes, 0});
  }
  const uint64_t tree_len = merkle::tree_len(shape.base_leaves, shape.base_arity);
  aux.tree_d = {path, merkle::tree_id_name(merkle::TreeId::kTreeD), 2 * nodes - 1, 0};
  aux.tree_r_last = {path, merkle::tree_id_name(merkle::TreeId::kTreeRLast), tree_len,
                     merkle::default_rows_to_discard(shape.base_leaves, shape.base_arity)};
  aux.tree_c = {path, merkle::tree_id_name(merkle::TreeId::kTreeC), tree_len, 0};
  return aux;
}

void write_file_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw AuxError(path.string() + ": cannot create (" + errno_text() +
                   "); check that the directory exists and is writable");
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = errno_text();
      ::close(fd);
      throw AuxError(path.string() + ": write failed (" + why + "); free disk space");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    throw AuxError(path.string() + ": fsync failed (" + why + ")");
  }
  ::close(fd);
}

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw AuxError(path.string() + ": cannot open (" + errno_text() +
                   "); check the cache directory or re-run PC2");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    throw AuxError(path.string() + ": larger than " + std::to_string(max_bytes) +
                   " bytes or unreadable; it is not a PC2 metadata file");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw AuxError(path.string() + ": short read; the file changed while being read");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return bytes;
}

void write_p_aux(const std::filesystem::path& cache_dir, const PersistentAux& aux) {
  write_atomically(cache_dir / kPAuxFileName, serialize_p_aux(aux));
}

PersistentAux read_p_aux(const std::filesystem::path& cache_dir) {
  const auto path = cache_dir / kPAuxFileName;
  return parse_p_aux(read_file_bytes(path, 64), path.string());
}

void write_t_aux(const std::filesystem::path& cache_dir, const TemporaryAux& aux) {
  write_atomically(cache_dir / kTAuxFileName, serialize_t_aux(aux));
}

TemporaryAux read_t_aux(const std::filesystem::path& cache_dir) {
  const auto path = cache_dir / kTAuxFileName;
  return parse_t_aux(read_file_bytes(path, kMaxAuxFileBytes), path.string());
}

}  // namespace sealhost::proofs::pc2
