#include "proofs/merkle/tree_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sealhost::proofs::merkle {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// RAII file descriptor with exact pread/pwrite.
class File {
 public:
  static std::shared_ptr<File> open_read(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw MerkleError("tree store " + path.string() + ": cannot open (" + errno_text() +
                        "); check the cache directory or rebuild the tree");
    }
    return std::shared_ptr<File>(new File(fd, path));
  }
  static std::shared_ptr<File> create(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw MerkleError("tree store " + path.string() + ": cannot create (" + errno_text() +
                        "); check that the directory exists and is writable");
    }
    return std::shared_ptr<File>(new File(fd, path));
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { ::close(fd_); }

  uint64_t size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      throw MerkleError("tree store " + path_.string() + ": stat failed (" + errno_text() + ")");
    }
    return static_cast<uint64_t>(st.st_size);
  }

  void read_exact(uint8_t* buf, size_t len, uint64_t offset) const {
    while (len > 0) {
      const ssize_t n = ::pread(fd_, buf, len, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        throw MerkleError("tree store " + path_.string() + ": short read at byte " +
                          std::to_string(offset) + (n < 0 ? " (" + errno_text() + ")" : "") +
                          "; the file is truncated or damaged, rebuild it");
      }
      buf += n;
      len -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
  }

  void write_all(const uint8_t* buf, size_t len, uint64_t offset) const {
    while (len > 0) {
      const ssize_t n = ::pwrite(fd_, buf, len, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        throw MerkleError("tree store " + path_.string() + ": write failed at byte " +
                          std::to_string(offset) + " (" + errno_text() +
                          "); free disk space or pick another cache directory");
      }
      buf += n;
      len -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  File(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::filesystem::path path_;
};

uint64_t ipow(uint64_t base, size_t exp) {
  uint64_t r = 1;
  for (size_t i = 0; i < exp; ++i) r *= base;
  return r;
}

void check_store_size(const File& file, uint64_t expected, const std::string& what) {
  const uint64_t actual = file.size();
  if (actual != expected) {
    throw MerkleError("tree store " + file.path().string() + ": size " + std::to_string(actual) +
                      " bytes, expected " + std::to_string(expected) + " for " + what +
                      "; the file is truncated or belongs to another sector size, rebuild it");
  }
}

// build_tree_file with an external SubtreeRowsBuilder: each chunk's rows come from one call, then
// one more call builds the rows above the chunk roots.
template <class OffsetOf>
Node build_tree_file_external(const File& file, size_t arity, uint64_t leaves,
                              const LeafReader& reader, uint64_t first_leaf,
                              size_t first_stored_row, uint64_t chunk,
                              const SubtreeRowsBuilder& builder, const OffsetOf& offset_of) {
  const uint64_t chunks = leaves / chunk;
  std::vector<uint8_t> leaf_buf(chunk * 32);
  std::vector<uint8_t> rows((chunk - 1) / (arity - 1) * 32);
  std::vector<uint8_t> roots(chunks * 32);
  size_t chunk_rows = 0;
  for (uint64_t n = chunk; n > 1; n /= arity) ++chunk_rows;
  // Writes the rows of a subtree whose leaves sit at `row0` (index `first` .. of that row).
  auto store_rows = [&](const uint8_t* sub_rows, uint64_t n, size_t row0, uint64_t first) {
    uint64_t width = n;
    uint64_t first_in_row = first;
    size_t consumed = 0;
    for (size_t row = row0 + 1; width > 1; ++row) {
      width /= arity;
      first_in_row /= arity;
      if (row >= first_stored_row) {
        file.write_all(sub_rows + consumed * 32, width * 32, offset_of(row, first_in_row));
      }
      consumed += width;
    }
  };
  for (uint64_t c = 0; c < chunks; ++c) {
    reader(first_leaf + c * chunk, chunk, leaf_buf.data());
    if (first_stored_row == 0) file.write_all(leaf_buf.data(), chunk * 32, offset_of(0, c * chunk));
    builder(arity, leaf_buf.data(), chunk, rows.data());
    store_rows(rows.data(), chunk, 0, c * chunk);
    std::memcpy(&roots[c * 32], &rows[rows.size() - 32], 32);
  }
  if (chunks == 1) {
    Node root{};
    std::memcpy(root.data(), roots.data(), 32);
    return root;
  }
  std::vector<uint8_t> top((chunks - 1) / (arity - 1) * 32);
  builder(arity, roots.data(), chunks, top.data());
  store_rows(top.data(), chunks, chunk_rows, 0);
  Node root{};
  std::memcpy(root.data(), &top[top.size() - 32], 32);
  return root;
}

}  // namespace

LeafReader file_leaf_reader(const std::filesystem::path& path, uint64_t byte_offset,
                            uint64_t leaves) {
  auto file = File::open_read(path);
  const uint64_t need = byte_offset + leaves * 32;
  if (file->size() < need) {
    throw MerkleError("leaf file " + path.string() + ": " + std::to_string(file->size()) +
                      " bytes, need at least " + std::to_string(need) +
                      " for the tree's leaves; the file is truncated");
  }
  return [file, byte_offset, leaves](uint64_t first, size_t count, uint8_t* out) {
    if (first > leaves || count > leaves - first) {
      throw MerkleError("leaf file " + file->path().string() + ": leaves " + std::to_string(first) +
                        "+" + std::to_string(count) + " out of range (internal bug)");
    }
    file->read_exact(out, count * 32, byte_offset + first * 32);
  };
}

LeafReader memory_leaf_reader(const uint8_t* data, uint64_t leaves) {
  return [data, leaves](uint64_t first, size_t count, uint8_t* out) {
    if (first > leaves || count > leaves - first) {
      throw MerkleError("in-memory leaves: range " + std::to_string(first) + "+" +
                        std::to_string(count) + " out of range (internal bug)");
    }
    std::memcpy(out, data + first * 32, count * 32);
  };
}

std::string tree_id_name(TreeId id) {
  switch (id) {
    case TreeId::kTreeD:
      return "tree-d";
    case TreeId::kTreeC:
      return "tree-c";
    case TreeId::kTreeRLast:
      return "tree-r-last";
  }
  return "tree-unknown";
}

std::string store_file_name(TreeId id, std::optional<size_t> index) {
  std::string name = "sc-02-data-" + tree_id_name(id);
  if (index) name += "-" + std::to_string(*index);
  return name + ".dat";
}

size_t TreeShape::base_tree_count() const {
  return std::max<size_t>(1, sub_arity) * std::max<size_t>(1, top_arity);
}

void TreeShape::validate() const {
  const bool ok_base = base_arity == 8 || (base_arity == 2 && sub_arity == 0 && top_arity == 0);
  const bool ok_sub = sub_arity == 0 || sub_arity == 2 || sub_arity == 8;
  const bool ok_top = top_arity == 0 || (top_arity == 2 && sub_arity != 0);
  if (!ok_base || !ok_sub || !ok_top) {
    throw MerkleError("tree shape " + std::to_string(base_arity) + "-" + std::to_string(sub_arity) +
                      "-" + std::to_string(top_arity) +
                      ": unsupported (use 2-0-0, 8-0-0, 8-2-0, 8-8-0 or 8-8-2)");
  }
  check_geometry(base_leaves, base_arity);
}

TreeShape TreeShape::for_sector(uint64_t sector_bytes) {
  const uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  struct Entry {
    uint64_t bytes;
    size_t sub, top;
    uint64_t base_leaves;
  };
  static const Entry kTable[] = {
      {2 * kKiB, 0, 0, 64},           {4 * kKiB, 2, 0, 64},         {16 * kKiB, 8, 0, 64},
      {32 * kKiB, 8, 2, 64},          {8 * kMiB, 0, 0, 1ULL << 18}, {16 * kMiB, 2, 0, 1ULL << 18},
      {512 * kMiB, 0, 0, 1ULL << 24}, {1 * kGiB, 2, 0, 1ULL << 24}, {32 * kGiB, 8, 0, 1ULL << 27},
      {64 * kGiB, 8, 2, 1ULL << 27},
  };
  for (const auto& e : kTable) {
    if (e.bytes == sector_bytes) return TreeShape{8, e.sub, e.top, e.base_leaves};
  }
  throw MerkleError("sector size " + std::to_string(sector_bytes) +
                    " bytes: no tree shape (use 2KiB, 4KiB, 16KiB, 32KiB, 8MiB, 16MiB, 512MiB, "
                    "1GiB, 32GiB or 64GiB)");
}

TreeShape TreeShape::tree_d(uint64_t sector_bytes) {
  TreeShape s{2, 0, 0, sector_bytes / 32};
  s.validate();
  return s;
}

Node build_tree_file(const std::filesystem::path& path, NodeHash hash, size_t arity,
                     uint64_t leaves, const LeafReader& reader, uint64_t first_leaf,
                     StoreLayout layout, const BuildOptions& options) {
  const size_t rows = row_count(leaves, arity);
  size_t first_stored_row = 0;
  if (layout.rows_to_discard) {
    level_cache_len(leaves, arity, *layout.rows_to_discard);  // validates rows_to_discard
    first_stored_row = *layout.rows_to_discard + 1;
  }
  const uint64_t base = row_start(leaves, arity, first_stored_row);
  auto file = File::create(path);
  auto offset_of = [&](size_t row, uint64_t index) {
    return (row_start(leaves, arity, row) - base + index) * 32;
  };

  // Chunk = largest power of the arity not above chunk_leaves (and not above the tree).
  uint64_t chunk = arity;
  while (chunk * arity <= std::max<uint64_t>(options.chunk_leaves, arity) &&
         chunk * arity <= leaves) {
    chunk *= arity;
  }
  size_t chunk_rows = 0;
  for (uint64_t n = chunk; n > 1; n /= arity) ++chunk_rows;
  const uint64_t chunks = leaves / chunk;

  if (options.subtree_rows && hash != NodeHash::kPoseidon) {
    throw MerkleError("tree store " + path.string() +
                      ": an external subtree builder is only supported for Poseidon trees");
  }
  if (options.subtree_rows) {
    return build_tree_file_external(*file, arity, leaves, reader, first_leaf, first_stored_row,
                                    chunk, options.subtree_rows, offset_of);
  }

  // Both buffers hold a whole chunk because they swap roles row by row.
  std::vector<uint8_t> cur(chunk * 32), next(chunk * 32);
  std::vector<uint8_t> roots(chunks * 32);
  for (uint64_t c = 0; c < chunks; ++c) {
    reader(first_leaf + c * chunk, chunk, cur.data());
    if (first_stored_row == 0) file->write_all(cur.data(), chunk * 32, offset_of(0, c * chunk));
    uint64_t width = chunk;
    for (size_t row = 1; row <= chunk_rows; ++row) {
      width /= arity;
      hash_row(hash, arity, cur.data(), next.data(), width, options.threads);
      if (row >= first_stored_row)
        file->write_all(next.data(), width * 32, offset_of(row, c * width));
      std::swap(cur, next);
    }
    std::memcpy(&roots[c * 32], cur.data(), 32);
  }
  // Rows above the chunk roots are small (leaves / chunk nodes at most).
  uint64_t width = chunks;
  for (size_t row = chunk_rows + 1; row < rows; ++row) {
    std::vector<uint8_t> parents(width / arity * 32);
    hash_row(hash, arity, roots.data(), parents.data(), width / arity, options.threads);
    width /= arity;
    roots.swap(parents);
    if (row >= first_stored_row) file->write_all(roots.data(), width * 32, offset_of(row, 0));
  }
  Node root{};
  std::memcpy(root.data(), roots.data(), 32);
  return root;
}

Node compound_root(const TreeShape& shape, const std::vector<Node>& base_roots) {
  if (base_roots.size() != shape.base_tree_count()) {
    throw MerkleError("compound tree: " + std::to_string(base_roots.size()) +
                      " base roots for a shape needing " + std::to_string(shape.base_tree_count()));
  }
  if (shape.sub_arity == 0) return base_roots[0];
  std::vector<Node> subs;
  for (size_t g = 0; g < base_roots.size(); g += shape.sub_arity) {
    subs.push_back(hash_children(
        NodeHash::kPoseidon,
        std::vector<Node>(base_roots.begin() + static_cast<ptrdiff_t>(g),
                          base_roots.begin() + static_cast<ptrdiff_t>(g + shape.sub_arity))));
  }
  if (shape.top_arity == 0) return subs[0];
  return hash_children(NodeHash::kPoseidon, subs);
}

Node build_tree(const std::filesystem::path& dir, TreeId id, const TreeShape& shape,
                const LeafReader& reader, StoreLayout layout, const BuildOptions& options) {
  shape.validate();
  const size_t count = shape.base_tree_count();
  std::vector<Node> roots;
  for (size_t i = 0; i < count; ++i) {
    const auto path =
        dir / store_file_name(id, count > 1 ? std::optional<size_t>(i) : std::nullopt);
    roots.push_back(build_tree_file(path, shape.base_hash(), shape.base_arity, shape.base_leaves,
                                    reader, i * shape.base_leaves, layout, options));
  }
  return compound_root(shape, roots);
}

// ---- TreeReader ----

struct TreeReader::Impl {
  std::shared_ptr<File> file;
  NodeHash hash = NodeHash::kPoseidon;
  size_t arity = 0;
  uint64_t leaves = 0;
  size_t rows = 0;
  size_t first_stored_row = 0;
  LeafReader leaf_reader;  // level cache only
  Node root{};

  uint64_t offset_of(size_t row, uint64_t index) const {
    return (row_start(leaves, arity, row) - row_start(leaves, arity, first_stored_row) + index) *
           32;
  }
  uint64_t width(size_t row) const { return leaves / ipow(arity, row); }
};

TreeReader::TreeReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TreeReader::TreeReader(TreeReader&&) noexcept = default;
TreeReader& TreeReader::operator=(TreeReader&&) noexcept = default;
TreeReader::~TreeReader() = default;

TreeReader TreeReader::open_full(const std::filesystem::path& path, NodeHash hash, size_t arity,
                                 uint64_t leaves) {
  auto impl = std::make_unique<Impl>();
  impl->file = File::open_read(path);
  impl->hash = hash;
  impl->arity = arity;
  impl->leaves = leaves;
  impl->rows = row_count(leaves, arity);
  check_store_size(
      *impl->file, tree_len(leaves, arity) * 32,
      "a full store of " + std::to_string(leaves) + " leaves, arity " + std::to_string(arity));
  impl->file->read_exact(impl->root.data(), 32, impl->file->size() - 32);
  return TreeReader(std::move(impl));
}

TreeReader TreeReader::open_level_cache(const std::filesystem::path& path, NodeHash hash,
                                        size_t arity, uint64_t leaves, size_t rows_to_discard,
                                        LeafReader leaf_reader) {
  if (!leaf_reader) {
    throw MerkleError("tree store " + path.string() +
                      ": a level-cache store needs a leaf reader (pass the replica)");
  }
  auto impl = std::make_unique<Impl>();
  impl->file = File::open_read(path);
  impl->hash = hash;
  impl->arity = arity;
  impl->leaves = leaves;
  impl->rows = row_count(leaves, arity);
  impl->first_stored_row = rows_to_discard + 1;
  impl->leaf_reader = std::move(leaf_reader);
  check_store_size(*impl->file, level_cache_len(leaves, arity, rows_to_discard) * 32,
                   "a level-cache store of " + std::to_string(leaves) + " leaves, arity " +
                       std::to_string(arity) + ", rows_to_discard " +
                       std::to_string(rows_to_discard));
  impl->file->read_exact(impl->root.data(), 32, impl->file->size() - 32);
  return TreeReader(std::move(impl));
}

Node TreeReader::root() const {
  return impl_->root;
}
uint64_t TreeReader::leaves() const {
  return impl_->leaves;
}
size_t TreeReader::arity() const {
  return impl_->arity;
}

Node TreeReader::read_node(size_t row, uint64_t index) const {
  const Impl& m = *impl_;
  if (row >= m.rows || index >= m.width(row)) {
    throw MerkleError("tree store " + m.file->path().string() + ": node " + std::to_string(index) +
                      " of row " + std::to_string(row) + " out of range");
  }
  Node out{};
  if (row >= m.first_stored_row) {
    m.file->read_exact(out.data(), 32, m.offset_of(row, index));
    return out;
  }
  // Discarded row (or the leaves of a level-cache store): rebuild from the leaves.
  const uint64_t span = ipow(m.arity, row);
  std::vector<uint8_t> buf(span * 32);
  m.leaf_reader(index * span, span, buf.data());
  std::vector<uint8_t> parents(span / m.arity * 32);
  for (uint64_t w = span; w > 1; w /= m.arity) {
    hash_row(m.hash, m.arity, buf.data(), parents.data(), w / m.arity);
    std::memcpy(buf.data(), parents.data(), w / m.arity * 32);
  }
  std::memcpy(out.data(), buf.data(), 32);
  return out;
}

InclusionProof TreeReader::prove(uint64_t index) const {
  const Impl& m = *impl_;
  if (index >= m.leaves) {
    throw MerkleError("tree store " + m.file->path().string() + ": leaf " + std::to_string(index) +
                      " out of range (tree has " + std::to_string(m.leaves) + " leaves)");
  }
  const size_t a = m.arity;
  InclusionProof proof;
  proof.root = m.root;
  // Rows below first_stored_row come from one rebuilt subtree of a^first_stored_row leaves.
  std::vector<std::vector<uint8_t>> rebuilt;
  uint64_t sub_first = 0;
  if (m.first_stored_row > 0) {
    const uint64_t span = ipow(a, m.first_stored_row);
    sub_first = index / span * span;
    rebuilt.emplace_back(span * 32);
    m.leaf_reader(sub_first, span, rebuilt[0].data());
    for (size_t row = 1; row < m.first_stored_row; ++row) {
      const uint64_t w = span / ipow(a, row);
      rebuilt.emplace_back(w * 32);
      hash_row(m.hash, a, rebuilt[row - 1].data(), rebuilt[row].data(), w);
    }
  }
  std::vector<uint8_t> group(a * 32);
  for (size_t row = 0; row + 1 < m.rows; ++row) {
    const uint64_t idx = index / ipow(a, row);
    const uint64_t pos = idx % a;
    const uint64_t first = idx - pos;
    if (row < m.first_stored_row) {
      const uint64_t local = first - sub_first / ipow(a, row);
      std::memcpy(group.data(), rebuilt[row].data() + local * 32, a * 32);
    } else {
      m.file->read_exact(group.data(), a * 32, m.offset_of(row, first));
    }
    PathLevel level;
    level.position = static_cast<uint32_t>(pos);
    for (size_t k = 0; k < a; ++k) {
      Node n{};
      std::memcpy(n.data(), &group[k * 32], 32);
      if (k == pos) {
        if (row == 0) proof.leaf = n;
      } else {
        level.siblings.push_back(n);
      }
    }
    proof.path.push_back(std::move(level));
  }
  return proof;
}

// ---- CompoundTreeReader ----

CompoundTreeReader CompoundTreeReader::open(const std::filesystem::path& dir, TreeId id,
                                            const TreeShape& shape, StoreLayout layout,
                                            LeafReader leaves) {
  shape.validate();
  CompoundTreeReader r;
  r.shape_ = shape;
  const size_t count = shape.base_tree_count();
  for (size_t i = 0; i < count; ++i) {
    const auto path =
        dir / store_file_name(id, count > 1 ? std::optional<size_t>(i) : std::nullopt);
    if (layout.rows_to_discard) {
      if (!leaves) {
        throw MerkleError("tree store " + path.string() +
                          ": a level-cache store needs the leaves (pass the replica reader)");
      }
      const uint64_t offset = i * shape.base_leaves;
      LeafReader local = [leaves, offset](uint64_t first, size_t n, uint8_t* out) {
        leaves(offset + first, n, out);
      };
      r.trees_.push_back(TreeReader::open_level_cache(path, shape.base_hash(), shape.base_arity,
                                                      shape.base_leaves, *layout.rows_to_discard,
                                                      std::move(local)));
    } else {
      r.trees_.push_back(
          TreeReader::open_full(path, shape.base_hash(), shape.base_arity, shape.base_leaves));
    }
    r.base_roots_.push_back(r.trees_.back().root());
  }
  if (shape.sub_arity != 0) {
    for (size_t g = 0; g < count; g += shape.sub_arity) {
      r.sub_roots_.push_back(hash_children(
          NodeHash::kPoseidon,
          std::vector<Node>(r.base_roots_.begin() + static_cast<ptrdiff_t>(g),
                            r.base_roots_.begin() + static_cast<ptrdiff_t>(g + shape.sub_arity))));
    }
  }
  r.root_ = compound_root(shape, r.base_roots_);
  return r;
}

InclusionProof CompoundTreeReader::prove(uint64_t index) const {
  if (index >= shape_.total_leaves()) {
    throw MerkleError("compound tree: leaf " + std::to_string(index) + " out of range (" +
                      std::to_string(shape_.total_leaves()) + " leaves)");
  }
  const size_t tree = static_cast<size_t>(index / shape_.base_leaves);
  InclusionProof proof = trees_[tree].prove(index % shape_.base_leaves);
  auto add_level = [&](const std::vector<Node>& nodes, size_t first, size_t arity, size_t pos) {
    PathLevel level;
    level.position = static_cast<uint32_t>(pos);
    for (size_t k = 0; k < arity; ++k) {
      if (k != pos) level.siblings.push_back(nodes[first + k]);
    }
    proof.path.push_back(std::move(level));
  };
  if (shape_.sub_arity != 0) {
    const size_t group = tree / shape_.sub_arity;
    add_level(base_roots_, group * shape_.sub_arity, shape_.sub_arity, tree % shape_.sub_arity);
    if (shape_.top_arity != 0) add_level(sub_roots_, 0, shape_.top_arity, group);
  }
  proof.root = root_;
  return proof;
}

}  // namespace sealhost::proofs::merkle
