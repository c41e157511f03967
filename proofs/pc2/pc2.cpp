#include "proofs/pc2/pc2.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "proofs/field/fr.hpp"
#include "proofs/merkle/tree_store.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::pc2 {
namespace {

static_assert(sizeof(Node) == 32, "nodes are hashed in place from std::vector<Node>");
static_assert(std::endian::native == std::endian::little,
              "pc2 reads 32-byte field elements as little-endian u64 limbs");

constexpr const char* kTempSuffix = ".pc2-tmp";

std::string errno_text() {
  return std::strerror(errno);
}

// RAII descriptor with exact pread/pwrite; messages name the file and its role.
class File {
 public:
  File(const std::filesystem::path& path, int flags, std::string role)
      : path_(path), role_(std::move(role)) {
    fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const auto kind = errno == ENOENT ? Pc2ErrorKind::kNotFound : Pc2ErrorKind::kIo;
      throw Pc2Error(role_ + " " + path.string() + ": cannot open (" + errno_text() +
                         "); check that it exists and is accessible",
                     kind);
    }
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { ::close(fd_); }

  uint64_t size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      throw Pc2Error(role_ + " " + path_.string() + ": stat failed (" + errno_text() + ")",
                     Pc2ErrorKind::kIo);
    }
    return static_cast<uint64_t>(st.st_size);
  }
  void read_exact(uint8_t* buf, size_t len, uint64_t offset) const {
    while (len > 0) {
      const ssize_t n = ::pread(fd_, buf, len, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        throw Pc2Error(role_ + " " + path_.string() + ": short read at byte " +
                           std::to_string(offset) + (n < 0 ? " (" + errno_text() + ")" : "") +
                           "; the file shrank or is damaged, re-run the stage that wrote it",
                       Pc2ErrorKind::kCorrupt);
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
        throw Pc2Error(role_ + " " + path_.string() + ": write failed at byte " +
                           std::to_string(offset) + " (" + errno_text() +
                           "); free disk space or choose another path",
                       Pc2ErrorKind::kIo);
      }
      buf += n;
      len -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
  }
  void sync() const {
    if (::fsync(fd_) != 0) {
      throw Pc2Error(role_ + " " + path_.string() + ": fsync failed (" + errno_text() + ")",
                     Pc2ErrorKind::kIo);
    }
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::string role_;
  int fd_ = -1;
};

void sync_path(const std::filesystem::path& path, const std::string& role) {
  File(path, O_RDONLY, role).sync();
}

using Limbs = std::array<uint64_t, 4>;

Limbs load_limbs(const uint8_t* p) {
  Limbs l;
  std::memcpy(l.data(), p, 32);
  return l;
}

bool is_canonical(const Limbs& v) {
  static constexpr Limbs kR = field::Fr::modulus();
  for (int i = 3; i >= 0; --i) {
    if (v[i] != kR[i]) return v[i] < kR[i];
  }
  return false;
}

[[noreturn]] void throw_non_canonical(const char* what, uint64_t node) {
  throw Pc2Error(std::string(what) + " node " + std::to_string(node) +
                     " is not a canonical field element (>= r); the file is damaged or not from "
                     "this pipeline, re-run the stage that wrote it",
                 Pc2ErrorKind::kCorrupt);
}

// Removes the registered temporary files unless commit() ran.
class TempFiles {
 public:
  TempFiles() = default;
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;
  ~TempFiles() {
    if (committed_) return;
    for (const auto& p : temps_) {
      std::error_code ec;
      std::filesystem::remove(p.first, ec);
    }
  }
  std::filesystem::path add(const std::filesystem::path& final_path) {
    auto tmp = final_path;
    tmp += kTempSuffix;
    temps_.emplace_back(tmp, final_path);
    return tmp;
  }
  const std::vector<std::pair<std::filesystem::path, std::filesystem::path>>& entries() const {
    return temps_;
  }
  void commit() {
    for (const auto& [tmp, final_path] : temps_) {
      std::error_code ec;
      std::filesystem::rename(tmp, final_path, ec);
      if (ec) {
        throw Pc2Error(final_path.string() + ": cannot rename the finished file into place (" +
                           ec.message() + "); check the directory's permissions",
                       Pc2ErrorKind::kIo);
      }
    }
    committed_ = true;
    // Make the renames durable: fsync every directory that received an output.
    std::vector<std::filesystem::path> dirs;
    for (const auto& entry : temps_) {
      auto dir = entry.second.parent_path();
      if (dir.empty()) dir = ".";
      if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
    }
    for (const auto& dir : dirs) File(dir, O_RDONLY | O_DIRECTORY, "output directory").sync();
  }

 private:
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> temps_;
  bool committed_ = false;
};

merkle::TreeShape shape_for(uint64_t sector_bytes) {
  try {
    return merkle::TreeShape::for_sector(sector_bytes);
  } catch (const merkle::MerkleError& e) {
    throw Pc2Error("sector size " + std::to_string(sector_bytes) + ": " + e.what());
  }
}

size_t effective_layers(const Pc2Input& input) {
  return input.layers == 0 ? layers_for_sector(input.sector_bytes) : input.layers;
}

// Runs an engine call, naming the engine in any failure.
template <class Fn>
void engine_call(PoseidonEngine& engine, const char* what, const Fn& fn) {
  try {
    fn();
  } catch (const Pc2Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Pc2Error(
        std::string("poseidon engine ") + engine.name() + ": " + what + " failed: " + e.what(),
        Pc2ErrorKind::kEngine);
  }
}

class Pc2Run {
 public:
  Pc2Run(const Pc2Input& input, const Pc2Options& options)
      : in_(input),
        opt_(options),
        engine_(*options.engine),
        layers_(effective_layers(input)),
        shape_(shape_for(input.sector_bytes)),
        nodes_(input.sector_bytes / 32) {}

  Pc2Output run() {
    Pc2Output out;
    for (size_t l = 1; l <= layers_; ++l) {
      layer_files_.push_back(std::make_unique<File>(in_.cache_dir / layer_file_name(l), O_RDONLY,
                                                    "layer " + std::to_string(l) + " file"));
    }
    unsealed_ = std::make_unique<File>(in_.unsealed_path, O_RDONLY, "unsealed file");

    const size_t count = shape_.base_tree_count();
    const auto index = [count](size_t i) {
      return count > 1 ? std::optional<size_t>(i) : std::nullopt;
    };
    std::vector<std::filesystem::path> tree_c_tmp, tree_r_tmp;
    for (size_t i = 0; i < count; ++i) {
      out.tree_c_paths.push_back(in_.cache_dir /
                                 merkle::store_file_name(merkle::TreeId::kTreeC, index(i)));
      tree_c_tmp.push_back(temps_.add(out.tree_c_paths.back()));
    }
    for (size_t i = 0; i < count; ++i) {
      out.tree_r_last_paths.push_back(
          in_.cache_dir / merkle::store_file_name(merkle::TreeId::kTreeRLast, index(i)));
      tree_r_tmp.push_back(temps_.add(out.tree_r_last_paths.back()));
    }
    out.sealed_path = in_.sealed_path;
    const auto sealed_tmp = temps_.add(in_.sealed_path);
    sealed_ = std::make_unique<File>(sealed_tmp, O_RDWR | O_CREAT | O_TRUNC, "sealed file");
    out.p_aux_path = in_.cache_dir / kPAuxFileName;
    out.t_aux_path = in_.cache_dir / kTAuxFileName;
    const auto p_aux_tmp = temps_.add(out.p_aux_path);
    const auto t_aux_tmp = temps_.add(out.t_aux_path);

    if (auto* cpu = dynamic_cast<CpuPoseidonEngine*>(&engine_)) {
      build_trees_on_cpu(cpu->threads(), tree_c_tmp, tree_r_tmp, out);
    } else {
      build_trees_on_engine(tree_c_tmp, tree_r_tmp, out);
    }
    out.comm_r = hash_nodes(2, {out.comm_c, out.comm_r_last})[0];

    check_cancel();
    sealed_->sync();
    sealed_.reset();
    for (const auto& p : tree_c_tmp) sync_path(p, "tree_c store");
    for (const auto& p : tree_r_tmp) sync_path(p, "tree_r_last store");
    try {
      write_file_bytes(p_aux_tmp, serialize_p_aux({out.comm_c, out.comm_r_last}));
      write_file_bytes(t_aux_tmp,
                       serialize_t_aux(default_t_aux(in_.cache_dir, in_.sector_bytes, layers_)));
    } catch (const AuxError& e) {
      throw Pc2Error(e.what(), Pc2ErrorKind::kIo);
    }
    temps_.commit();

    const auto cost = pc2_cost(in_.sector_bytes, layers_);
    out.poseidon_hashes = cost.hashes;
    out.field_multiplications = cost.multiplications;
    return out;
  }

 private:
  // Any engine (GPU, remote): large batches, one engine call at a time from this thread.
  void build_trees_on_engine(const std::vector<std::filesystem::path>& tree_c_tmp,
                             const std::vector<std::filesystem::path>& tree_r_tmp, Pc2Output& out) {
    chunk_ = std::max<size_t>(8, std::min<uint64_t>(opt_.chunk_leaves, shape_.base_leaves));
    scratch_.resize(chunk_ * 32);
    columns_.resize(chunk_ * 32 * layers_);
    const size_t count = shape_.base_tree_count();
    merkle::BuildOptions build;
    build.chunk_leaves = chunk_;
    build.subtree_rows = [this](size_t arity, const uint8_t* leaves, size_t n, uint8_t* rows) {
      engine_call(engine_, "tree_rows", [&] { engine_.tree_rows(arity, leaves, n, rows); });
    };

    // TreeC: full stores over the column hashes.
    std::vector<Node> roots;
    const merkle::LeafReader columns = [this](uint64_t first, size_t n, uint8_t* o) {
      column_hashes(first, n, o);
    };
    for (size_t i = 0; i < count; ++i) {
      roots.push_back(build_tree(tree_c_tmp[i], columns, i, {std::nullopt}, build));
    }
    out.comm_c = compound_root(roots);

    // TreeRLast: level-cache stores over the replica, written while it is encoded.
    const merkle::StoreLayout r_layout{
        merkle::default_rows_to_discard(shape_.base_leaves, shape_.base_arity)};
    roots.clear();
    const merkle::LeafReader replica = [this](uint64_t first, size_t n, uint8_t* o) {
      encode_chunk(first, n, o);
    };
    for (size_t i = 0; i < count; ++i) {
      roots.push_back(build_tree(tree_r_tmp[i], replica, i, r_layout, build));
    }
    out.comm_r_last = compound_root(roots);
  }

  // ---- builtin CPU engine: task-parallel trees ----
  //
  // Both trees are cut into aligned subtrees of task_leaves_ leaves ("tasks"). A task reads its
  // inputs (layer columns, or unsealed data + last layer for the replica), hashes its leaves and
  // all rows of its subtree on the thread that claimed it, and writes them to the store files at
  // their final offsets (pwrite: tasks never overlap). Every thread claims tasks from one shared
  // counter, tree_c tasks first, so all threads stay busy from the first node to the last; only
  // the few rows above the task roots are left for the end. The calling thread is one of the
  // workers and is the only one that calls the progress and cancel callbacks.

  // Largest power of 8 within the chunk option and the base tree, capped so that each thread
  // gets many tasks (load balance at the end) while a task's rows stay cache-resident.
  static constexpr size_t kMaxTaskLeaves = size_t{1} << 12;

  struct Workspace {
    std::vector<uint8_t> input;    // layers_ * task nodes (column order after transposition)
    std::vector<uint8_t> scratch;  // one layer's task nodes
    std::vector<uint8_t> leaves;   // task leaves
    std::vector<uint8_t> rows;     // every row above the task leaves
  };

  struct TreeFiles {
    std::vector<std::unique_ptr<File>> files;  // one per base tree
    size_t first_stored_row = 0;
    std::vector<Node> task_roots;  // base-tree-major
  };

  uint64_t store_offset(size_t first_stored_row, size_t row, uint64_t index) const {
    const auto base = merkle::row_start(shape_.base_leaves, shape_.base_arity, first_stored_row);
    return (merkle::row_start(shape_.base_leaves, shape_.base_arity, row) - base + index) * 32;
  }

  // Writes the rows of a subtree whose lowest row `row0` starts at index `first` (within a base
  // tree); `rows` holds rows row0+1 .. its root, bottom-up.
  void store_rows(const File& file, size_t first_stored_row, const uint8_t* rows, uint64_t n,
                  size_t row0, uint64_t first) const {
    uint64_t width = n;
    size_t consumed = 0;
    for (size_t row = row0 + 1; width > 1; ++row) {
      width /= shape_.base_arity;
      first /= shape_.base_arity;
      if (row >= first_stored_row) {
        file.write_all(rows + consumed * 32, width * 32,
                       store_offset(first_stored_row, row, first));
      }
      consumed += width;
    }
  }

  // Hashes every row above n leaves into ws.rows (bottom-up) and returns the subtree root.
  Node hash_subtree(const uint8_t* leaves, size_t n, Workspace& ws) const {
    const size_t arity = shape_.base_arity;
    const uint8_t* children = leaves;
    uint8_t* row = ws.rows.data();
    for (size_t width = n / arity; width >= 1; width /= arity) {
      poseidon::hash_batch_bytes(arity, children, row, width);
      children = row;
      row += width * 32;
      if (width == 1) break;
    }
    Node root{};
    std::memcpy(root.data(), row - 32, 32);
    return root;
  }

  // TreeC task: columns of nodes [first, first+n) of the sector, their hashes and subtree rows.
  void tree_c_task(uint64_t first, size_t n, Workspace& ws, TreeFiles& trees) {
    for (size_t l = 0; l < layers_; ++l) {
      read_layer_into(l, first, n, ws.scratch.data());
      for (size_t v = 0; v < n; ++v) {
        std::memcpy(&ws.input[(v * layers_ + l) * 32], &ws.scratch[v * 32], 32);
      }
    }
    poseidon::hash_batch_bytes(layers_, ws.input.data(), ws.leaves.data(), n);
    finish_task(first, n, ws, trees);
  }

  // TreeRLast task: encodes nodes [first, first+n) into the sealed file and hashes their rows.
  void tree_r_task(uint64_t first, size_t n, Workspace& ws, TreeFiles& trees) {
    unsealed_->read_exact(ws.leaves.data(), n * 32, first * 32);
    read_layer_into(layers_ - 1, first, n, ws.scratch.data());
    const std::string what = "unsealed file " + in_.unsealed_path.string() + ":";
    for (size_t v = 0; v < n; ++v) {
      if (!is_canonical(load_limbs(&ws.leaves[v * 32]))) {
        throw_non_canonical(what.c_str(), first + v);
      }
    }
    encode_nodes(ws.leaves.data(), ws.scratch.data(), ws.leaves.data(), n, first);
    sealed_->write_all(ws.leaves.data(), n * 32, first * 32);
    finish_task(first, n, ws, trees);
  }

  void finish_task(uint64_t first, size_t n, Workspace& ws, TreeFiles& trees) {
    const uint64_t tree = first / shape_.base_leaves;
    const uint64_t local = first % shape_.base_leaves;
    const File& file = *trees.files[tree];
    if (trees.first_stored_row == 0) {
      file.write_all(ws.leaves.data(), n * 32, store_offset(0, 0, local));
    }
    const Node root = hash_subtree(ws.leaves.data(), n, ws);
    store_rows(file, trees.first_stored_row, ws.rows.data(), n, 0, local);
    trees.task_roots[first / n] = root;
  }

  // Rows above the task roots of each base tree, then the compound root.
  Node finish_tree(TreeFiles& trees, size_t task_leaves) {
    const uint64_t per_tree = shape_.base_leaves / task_leaves;
    size_t task_rows = 0;
    for (uint64_t w = task_leaves; w > 1; w /= shape_.base_arity) ++task_rows;
    std::vector<Node> roots;
    for (size_t i = 0; i < trees.files.size(); ++i) {
      const Node* first_root = &trees.task_roots[i * per_tree];
      if (per_tree == 1) {
        roots.push_back(*first_root);
        continue;
      }
      std::vector<uint8_t> top(tree_rows_nodes(per_tree, shape_.base_arity) * 32);
      engine_call(engine_, "tree_rows", [&] {
        engine_.tree_rows(shape_.base_arity, first_root->data(), per_tree, top.data());
      });
      store_rows(*trees.files[i], trees.first_stored_row, top.data(), per_tree, task_rows, 0);
      Node root{};
      std::memcpy(root.data(), &top[top.size() - 32], 32);
      roots.push_back(root);
    }
    return compound_root(roots);
  }

  void build_trees_on_cpu(unsigned threads, const std::vector<std::filesystem::path>& tree_c_tmp,
                          const std::vector<std::filesystem::path>& tree_r_tmp, Pc2Output& out) {
    size_t task_leaves = 8;
    const uint64_t limit = std::min<uint64_t>(
        {std::max<size_t>(opt_.chunk_leaves, 8), shape_.base_leaves, kMaxTaskLeaves});
    while (task_leaves * 8 <= limit) task_leaves *= 8;
    const uint64_t tasks_per_tree = nodes_ / task_leaves;

    TreeFiles tree_c, tree_r;
    tree_r.first_stored_row =
        merkle::default_rows_to_discard(shape_.base_leaves, shape_.base_arity) + 1;
    for (const auto& p : tree_c_tmp) {
      tree_c.files.push_back(std::make_unique<File>(p, O_RDWR | O_CREAT | O_TRUNC, "tree_c store"));
    }
    for (const auto& p : tree_r_tmp) {
      tree_r.files.push_back(
          std::make_unique<File>(p, O_RDWR | O_CREAT | O_TRUNC, "tree_r_last store"));
    }
    tree_c.task_roots.resize(tasks_per_tree);
    tree_r.task_roots.resize(tasks_per_tree);

    std::atomic<uint64_t> next{0};
    std::atomic<uint64_t> done{0};
    std::atomic<bool> stop{false};
    std::mutex error_mutex;
    std::exception_ptr error;
    auto fail = [&](std::exception_ptr e) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::move(e);
      stop = true;
    };
    // Runs tasks until none is left or one failed. Only the calling thread (`caller`) polls the
    // cancel callback (before each task) and reports progress (after each).
    auto work = [&](bool caller) {
      Workspace ws;
      ws.input.resize(task_leaves * 32 * layers_);
      ws.scratch.resize(task_leaves * 32);
      ws.leaves.resize(task_leaves * 32);
      ws.rows.resize(tree_rows_nodes(task_leaves, shape_.base_arity) * 32);
      try {
        for (;;) {
          if (stop.load(std::memory_order_relaxed)) return;
          if (caller) check_cancel();
          const uint64_t t = next.fetch_add(1);
          if (t >= 2 * tasks_per_tree) return;
          const bool column_phase = t < tasks_per_tree;
          const uint64_t first = (t % tasks_per_tree) * task_leaves;
          try {
            if (column_phase) {
              tree_c_task(first, task_leaves, ws, tree_c);
            } else {
              tree_r_task(first, task_leaves, ws, tree_r);
            }
          } catch (const field::FieldError& e) {
            throw Pc2Error(std::string("poseidon engine ") + engine_.name() + ": " + e.what(),
                           Pc2ErrorKind::kEngine);
          }
          const uint64_t now = done.fetch_add(task_leaves) + task_leaves;
          if (caller) report_total(column_phase ? "tree_c" : "tree_r_last", now);
        }
      } catch (...) {
        fail(std::current_exception());
      }
    };
    {
      std::vector<std::jthread> pool;
      for (unsigned w = 1; w < threads && w < 2 * tasks_per_tree; ++w) {
        pool.emplace_back([&] { work(false); });
      }
      work(true);
    }  // joins the workers
    if (error) std::rethrow_exception(error);
    if (done_ < 2 * nodes_) report_total("tree_r_last", 2 * nodes_);

    out.comm_c = finish_tree(tree_c, task_leaves);
    out.comm_r_last = finish_tree(tree_r, task_leaves);
  }

  void read_layer_into(size_t l, uint64_t first, size_t n, uint8_t* buf) const {
    layer_files_[l]->read_exact(buf, n * 32, first * 32);
    for (size_t v = 0; v < n; ++v) {
      if (!is_canonical(load_limbs(buf + v * 32))) {
        const std::string what =
            "layer " + std::to_string(l + 1) + " file " + layer_files_[l]->path().string() + ":";
        throw_non_canonical(what.c_str(), first + v);
      }
    }
  }

  Node build_tree(const std::filesystem::path& path, const merkle::LeafReader& reader, size_t i,
                  merkle::StoreLayout layout, const merkle::BuildOptions& build) {
    try {
      return merkle::build_tree_file(path, merkle::NodeHash::kPoseidon, shape_.base_arity,
                                     shape_.base_leaves, reader, i * shape_.base_leaves, layout,
                                     build);
    } catch (const Pc2Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Pc2Error(path.string() + ": " + e.what(), Pc2ErrorKind::kIo);
    }
  }

  // Hashes consecutive groups of `arity` nodes on the engine (MerkleTree tag).
  std::vector<Node> hash_nodes(size_t arity, const std::vector<Node>& nodes) {
    std::vector<Node> out(nodes.size() / arity);
    engine_call(engine_, "compound levels", [&] {
      engine_.hash_batch(arity, PoseidonTag::kMerkleTree, nodes.front().data(), out.front().data(),
                         out.size());
    });
    return out;
  }

  // Sub level over consecutive base roots, then the top level (spec §10, P9).
  Node compound_root(const std::vector<Node>& base_roots) {
    if (shape_.sub_arity == 0) return base_roots.front();
    const auto subs = hash_nodes(shape_.sub_arity, base_roots);
    if (shape_.top_arity == 0) return subs.front();
    return hash_nodes(shape_.top_arity, subs).front();
  }

  void check_cancel() const {
    if (opt_.cancelled && opt_.cancelled()) {
      throw Pc2Cancelled("pc2 cancelled; no outputs were written");
    }
  }

  void report(const char* phase, uint64_t n) { report_total(phase, done_ + n); }

  void report_total(const char* phase, uint64_t done) {
    done_ = done;
    if (!opt_.progress) return;
    try {
      opt_.progress({phase, done_, 2 * nodes_});
    } catch (const std::exception& e) {
      throw Pc2Cancelled(std::string("pc2 aborted by the progress callback (") + e.what() +
                         "); no outputs were written");
    }
  }

  // Reads nodes [first, first+n) of layer `l` (0-based) into scratch_ and checks them.
  void read_layer(size_t l, uint64_t first, size_t n) {
    read_layer_into(l, first, n, scratch_.data());
  }

  void column_hashes(uint64_t first, size_t n, uint8_t* out) {
    check_cancel();
    for (size_t l = 0; l < layers_; ++l) {
      read_layer(l, first, n);
      for (size_t v = 0; v < n; ++v) {
        std::memcpy(&columns_[(v * layers_ + l) * 32], &scratch_[v * 32], 32);
      }
    }
    engine_call(engine_, "column hashes", [&] {
      engine_.hash_batch(layers_, PoseidonTag::kMerkleTree, columns_.data(), out, n);
    });
    report("tree_c", n);
  }

  void encode_chunk(uint64_t first, size_t n, uint8_t* out) {
    check_cancel();
    unsealed_->read_exact(out, n * 32, first * 32);
    read_layer(layers_ - 1, first, n);
    const std::string what = "unsealed file " + in_.unsealed_path.string() + ":";
    for (size_t v = 0; v < n; ++v) {
      if (!is_canonical(load_limbs(out + v * 32))) throw_non_canonical(what.c_str(), first + v);
    }
    encode_nodes(out, scratch_.data(), out, n, first);
    sealed_->write_all(out, n * 32, first * 32);
    report("tree_r_last", n);
  }

  const Pc2Input& in_;
  const Pc2Options& opt_;
  PoseidonEngine& engine_;
  size_t layers_;
  merkle::TreeShape shape_;
  uint64_t nodes_;
  size_t chunk_ = 0;
  uint64_t done_ = 0;
  std::vector<std::unique_ptr<File>> layer_files_;
  std::unique_ptr<File> unsealed_;
  std::unique_ptr<File> sealed_;
  std::vector<uint8_t> scratch_;
  std::vector<uint8_t> columns_;
  TempFiles temps_;
};

void check_file_size(const std::filesystem::path& path, uint64_t expected, const std::string& role,
                     const std::string& fix) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw Pc2Error(role + " " + path.string() + ": missing; " + fix, Pc2ErrorKind::kNotFound);
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw Pc2Error(role + " " + path.string() + ": not a regular file; " + fix);
  }
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    throw Pc2Error(role + " " + path.string() + ": cannot stat (" + ec.message() + ")",
                   Pc2ErrorKind::kIo);
  }
  if (size != expected) {
    throw Pc2Error(role + " " + path.string() + ": " + std::to_string(size) + " bytes, expected " +
                   std::to_string(expected) + " for this sector size; " + fix);
  }
}

// Node 0 of layer l is SHA256(replica_id || u32_be(l) || u64_be(0) || 20 zero bytes), top two
// bits cleared (spec §8).
void check_layers_belong_to(const Pc2Input& in, size_t layers) {
  for (size_t l = 1; l <= layers; ++l) {
    std::array<uint8_t, 64> header{};
    std::memcpy(header.data(), in.replica_id->data(), 32);
    const auto layer = static_cast<uint32_t>(l);
    for (int i = 0; i < 4; ++i) header[32 + i] = static_cast<uint8_t>(layer >> (24 - 8 * i));
    auto want = sha256::digest(header);
    want[31] &= 0x3f;
    const auto path = in.cache_dir / layer_file_name(l);
    Node got{};
    File(path, O_RDONLY, "layer " + std::to_string(l) + " file").read_exact(got.data(), 32, 0);
    if (std::memcmp(got.data(), want.data(), 32) != 0) {
      throw Pc2Error("layer " + std::to_string(l) + " file " + path.string() +
                         ": node 0 is not the label of the given replica_id; the cache directory "
                         "belongs to another sector (or ticket), re-run PC1 or fix the record",
                     Pc2ErrorKind::kCorrupt);
    }
  }
}

}  // namespace

size_t layers_for_sector(uint64_t sector_bytes) {
  return sector_bytes <= (uint64_t{1} << 30) ? 2 : 11;
}

std::string layer_file_name(size_t layer) {
  return "sc-02-data-layer-" + std::to_string(layer) + ".dat";
}

Node comm_r(const Node& comm_c, const Node& comm_r_last) {
  const auto c = field::Fr::from_bytes(comm_c.data());
  const auto r = field::Fr::from_bytes(comm_r_last.data());
  if (!c || !r) {
    throw Pc2Error(std::string(!c ? "comm_c" : "comm_r_last") +
                   " is not a canonical field element; pass the commitment PC2 produced");
  }
  const std::array<field::Fr, 2> in{*c, *r};
  return poseidon::hash_merkle<2>(in).to_bytes();
}

void encode_nodes(const uint8_t* data, const uint8_t* key, uint8_t* out, size_t n,
                  uint64_t first_node) {
  for (size_t v = 0; v < n; ++v) {
    const Limbs d = load_limbs(data + v * 32);
    const Limbs k = load_limbs(key + v * 32);
    if (!is_canonical(d)) throw_non_canonical("encoding: data", first_node + v);
    if (!is_canonical(k)) throw_non_canonical("encoding: key", first_node + v);
    Limbs r;
    field::detail::mod_add(d.data(), k.data(), r.data());
    std::memcpy(out + v * 32, r.data(), 32);
  }
}

void decode_nodes(const uint8_t* replica, const uint8_t* key, uint8_t* out, size_t n,
                  uint64_t first_node) {
  for (size_t v = 0; v < n; ++v) {
    const Limbs s = load_limbs(replica + v * 32);
    const Limbs k = load_limbs(key + v * 32);
    if (!is_canonical(s)) throw_non_canonical("decoding: replica", first_node + v);
    if (!is_canonical(k)) throw_non_canonical("decoding: key", first_node + v);
    Limbs d;
    field::detail::mod_sub(s.data(), k.data(), d.data());
    std::memcpy(out + v * 32, d.data(), 32);
  }
}

size_t chunk_leaves_for_memory(uint64_t memory_bytes, size_t layers, uint64_t base_leaves) {
  const uint64_t per_leaf = (layers + 3) * 32;
  uint64_t chunk = 8;
  while (chunk * 8 <= base_leaves && chunk * 8 * per_leaf <= memory_bytes) chunk *= 8;
  return static_cast<size_t>(chunk);
}

void validate_pc2_input(const Pc2Input& in) {
  shape_for(in.sector_bytes);  // throws for unknown sector sizes
  const size_t layers = effective_layers(in);
  if (layers < 1 || !poseidon::is_supported_arity(layers)) {
    throw Pc2Error("layers " + std::to_string(layers) +
                   ": not a supported column-hash arity (2 or 11 for Filecoin proofs)");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(in.cache_dir, ec)) {
    throw Pc2Error("cache directory " + in.cache_dir.string() +
                       ": missing or not a directory; pass the directory PC1 wrote its layers to",
                   Pc2ErrorKind::kNotFound);
  }
  for (size_t l = 1; l <= layers; ++l) {
    check_file_size(in.cache_dir / layer_file_name(l), in.sector_bytes,
                    "layer " + std::to_string(l) + " file",
                    "re-run PC1 for this sector (or point cache_dir at its cache directory)");
  }
  check_file_size(in.unsealed_path, in.sector_bytes, "unsealed file",
                  "it must be the sector's full fr32-padded data (finish AddPiece first)");
  const auto sealed_dir = in.sealed_path.parent_path().empty() ? std::filesystem::path(".")
                                                               : in.sealed_path.parent_path();
  if (in.sealed_path.filename().empty() || !std::filesystem::is_directory(sealed_dir, ec)) {
    throw Pc2Error("sealed path " + in.sealed_path.string() +
                   ": its directory does not exist; create it or pick another path");
  }
  if (std::filesystem::equivalent(in.sealed_path, in.unsealed_path, ec)) {
    throw Pc2Error("sealed path " + in.sealed_path.string() +
                   ": is the unsealed file; PC2 keeps the unsealed data, give another path");
  }
  if (in.replica_id) check_layers_belong_to(in, layers);
  if (in.comm_d) {
    const auto tree_d = in.cache_dir / merkle::store_file_name(merkle::TreeId::kTreeD);
    if (std::filesystem::exists(tree_d, ec)) {
      const uint64_t nodes = in.sector_bytes / 32;
      check_file_size(tree_d, (2 * nodes - 1) * 32, "tree_d store", "re-run PC1 for this sector");
      Node root{};
      File(tree_d, O_RDONLY, "tree_d store").read_exact(root.data(), 32, (2 * nodes - 2) * 32);
      if (root != *in.comm_d) {
        throw Pc2Error("tree_d store " + tree_d.string() +
                           ": its root differs from the given comm_d; the cache directory belongs "
                           "to another sector or the record is wrong",
                       Pc2ErrorKind::kCorrupt);
      }
    }
  }
}

Pc2Output run_pc2(const Pc2Input& input, const Pc2Options& options) {
  if (options.engine == nullptr) {
    throw Pc2Error("pc2: no Poseidon engine given (pass a CpuPoseidonEngine or a compute backend)");
  }
  validate_pc2_input(input);
  Pc2Run run(input, options);
  return run.run();
}

Pc2Cost pc2_cost(uint64_t sector_bytes, size_t layers) {
  if (layers == 0) layers = layers_for_sector(sector_bytes);
  const auto shape = shape_for(sector_bytes);
  const uint64_t nodes = sector_bytes / 32;
  const uint64_t count = shape.base_tree_count();
  Pc2Cost c;
  auto add = [&c](uint64_t hashes, size_t arity) {
    c.hashes += hashes;
    c.multiplications += hashes * poseidon::multiplications_per_hash(arity);
  };
  add(nodes, layers);
  const uint64_t tree_nodes = tree_rows_nodes(shape.base_leaves, shape.base_arity) * count;
  for (int tree = 0; tree < 2; ++tree) {
    add(tree_nodes, shape.base_arity);
    if (shape.sub_arity != 0) add(count / shape.sub_arity, shape.sub_arity);
    if (shape.top_arity != 0) add(1, shape.top_arity);
  }
  add(1, 2);
  return c;
}

}  // namespace sealhost::proofs::pc2
