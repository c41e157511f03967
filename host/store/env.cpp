#include "host/store/env.hpp"

#include <lmdb.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <system_error>
#include <thread>

#include "host/store/keys.hpp"

namespace sealhost::store {

// Everything a transaction owns. Shared with its cursors so a cursor can tell, without dangling,
// whether its transaction has ended.
struct TxnState {
  MDB_txn* txn = nullptr;
  bool write = false;
  bool map_full = false;
  std::thread::id gate_owner;
  std::unique_lock<std::mutex> write_lock;
};

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kGrowthDoublingLimit = std::uint64_t{4} << 30;  // 4 GiB
constexpr std::uint64_t kMinMapSize = std::uint64_t{256} << 10;         // 256 KiB
constexpr std::string_view kFormatKey = "store_format";

std::string mib(std::uint64_t bytes) {
  return std::to_string(bytes / kMiB) + " MiB";
}

MDB_val to_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
std::string_view from_val(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

std::uint64_t page_size() {
  const long p = ::sysconf(_SC_PAGESIZE);
  return p > 0 ? static_cast<std::uint64_t>(p) : 4096;
}

std::uint64_t round_up(std::uint64_t n, std::uint64_t unit) {
  return (n + unit - 1) / unit * unit;
}

// One place that turns an LMDB or errno code into a message naming the object, what failed and
// what to do about it.
Status lmdb_status(int rc, const std::string& object, std::string_view op) {
  const std::string head = object + ": " + std::string(op) + ": ";
  switch (rc) {
    case MDB_NOTFOUND:
      return Status::not_found(object + ": not found");
    case MDB_KEYEXIST:
      return Status::already_exists(object + ": already exists");
    case MDB_MAP_FULL:
      return Status::resource_exhausted(head + "map full (Env::write grows the map and retries)");
    case MDB_TXN_FULL:
      return Status::resource_exhausted(
          head + "transaction has too many dirty pages (split the work into smaller transactions)");
    case MDB_READERS_FULL:
      return Status::resource_exhausted(
          head + "all reader slots are in use (raise max_readers or end read transactions sooner)");
    case MDB_MAP_RESIZED:
      return Status::unavailable(head + "another process grew the map (retry)");
    case MDB_BAD_VALSIZE:
      return Status::invalid_argument(head +
                                      "key or value size not accepted by LMDB (keys must be "
                                      "1..511 bytes)");
    case MDB_BAD_TXN:
      return Status::aborted(head + "the transaction failed earlier (abort it and start again)");
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
      return Status::corruption(
          head + mdb_strerror(rc) +
          " (the datastore is damaged or not an LMDB store; restore it from a "
          "backup)");
    case ENOSPC:
      return Status::resource_exhausted(head +
                                        "no space left on device (free space on the datastore's "
                                        "filesystem)");
    case ENOMEM:
      return Status::resource_exhausted(head +
                                        "out of memory or address space (lower "
                                        "max_map_size or raise the process limits)");
    case EIO:
      return Status::io_error(head + "input/output error (check the disk and the kernel log)");
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::io_error(head + mdb_strerror(rc) +
                              " (check ownership and permissions of the datastore directory)");
    case EAGAIN:
    case EBUSY:
      return Status::unavailable(head + mdb_strerror(rc) + " (retry)");
    case ENOENT:
      return Status::io_error(head + "no such file or directory (check the datastore path)");
    default:
      return Status::internal(head + mdb_strerror(rc) + " (error " + std::to_string(rc) + ")");
  }
}

// Directories with an open Env in this process. LMDB forbids opening one environment twice in a
// process: its POSIX record locks are per process, so closing the second handle would silently
// drop the first one's locks.
std::mutex g_open_mu;
std::set<std::string>& open_dirs() {
  static std::set<std::string> dirs;
  return dirs;
}

Status check_key(Db db, std::string_view key) {
  if (key.empty()) {
    return Status::invalid_argument(std::string(db_name(db)) +
                                    ": empty key (keys must be 1..511 bytes)");
  }
  if (key.size() > kMaxKeySize) {
    return Status::invalid_argument(describe(db, key.substr(0, 32)) + "...: key is " +
                                    std::to_string(key.size()) +
                                    " bytes, over LMDB's 511-byte limit (use a shorter key)");
  }
  return Status::ok();
}

Status ended(std::string_view what) {
  return Status::aborted(std::string(what) +
                         ": transaction already ended (begin a new transaction)");
}

}  // namespace

std::string_view db_name(Db db) {
  return kDbNames.at(static_cast<std::size_t>(db));
}

std::string describe(Db db, std::string_view key) {
  return std::string(db_name(db)) + "/" + describe_key(key);
}

// ---------------------------------------------------------------------------------------------
// Cursor

Cursor::Cursor(std::shared_ptr<TxnState> state, Db db, MDB_cursor* cursor, Status status)
    : state_(std::move(state)), db_(db), cursor_(cursor), status_(std::move(status)) {}

Cursor::Cursor(Cursor&& other) noexcept
    : state_(std::move(other.state_)),
      db_(other.db_),
      cursor_(std::exchange(other.cursor_, nullptr)),
      valid_(std::exchange(other.valid_, false)),
      key_(other.key_),
      value_(other.value_),
      status_(std::move(other.status_)) {}

Cursor::~Cursor() {
  if (cursor_ == nullptr) return;
  // LMDB frees a write transaction's cursors when the transaction ends; read-transaction cursors
  // must always be closed by us, before or after the transaction ends.
  if (state_->txn != nullptr || !state_->write) mdb_cursor_close(cursor_);
}

void Cursor::move(int op, std::string_view target) {
  valid_ = false;
  if (!status_.is_ok()) return;
  if (cursor_ == nullptr || state_->txn == nullptr) {
    status_ = Status::aborted(std::string(db_name(db_)) +
                              ": cursor used after its transaction ended (keep the transaction "
                              "open while iterating)");
    return;
  }
  MDB_val k = to_val(target);
  MDB_val v{};
  const int rc = mdb_cursor_get(cursor_, &k, &v, static_cast<MDB_cursor_op>(op));
  if (rc == MDB_NOTFOUND) return;
  if (rc != 0) {
    status_ = lmdb_status(rc, std::string(db_name(db_)), "cursor");
    return;
  }
  valid_ = true;
  key_ = from_val(k);
  value_ = from_val(v);
}

void Cursor::first() {
  move(MDB_FIRST, {});
}
void Cursor::last() {
  move(MDB_LAST, {});
}
void Cursor::seek(std::string_view key) {
  if (key.empty()) return first();
  move(MDB_SET_RANGE, key);
}
void Cursor::next() {
  if (valid_) move(MDB_NEXT, {});
}
void Cursor::prev() {
  if (valid_) move(MDB_PREV, {});
}

// ---------------------------------------------------------------------------------------------
// Txn

Txn::Txn(Env* env, std::shared_ptr<TxnState> state) : env_(env), state_(std::move(state)) {}

Txn::~Txn() {
  if (state_) end(false, nullptr);
}

bool Txn::active() const {
  return state_ && state_->txn != nullptr;
}

void Txn::end(bool commit_it, Status* commit_status) {
  if (!active()) {
    if (commit_status != nullptr) *commit_status = ended(env_->what());
    return;
  }
  MDB_txn* txn = std::exchange(state_->txn, nullptr);
  if (commit_it) {
    const int rc = mdb_txn_commit(txn);  // frees the transaction even when it fails
    if (rc == MDB_MAP_FULL) {
      state_->map_full = true;
      env_->grow_needed_ = true;
    }
    if (commit_status != nullptr) {
      *commit_status = rc == 0 ? Status::ok() : lmdb_status(rc, env_->what(), "commit");
    }
  } else {
    mdb_txn_abort(txn);
  }
  env_->gate_.leave(state_->gate_owner);
  if (state_->write_lock.owns_lock()) state_->write_lock.unlock();
}

Result<std::string_view> Txn::get(Db db, std::string_view key) const {
  if (!active()) return ended(describe(db, key));
  if (auto s = check_key(db, key); !s) return s;
  MDB_val k = to_val(key);
  MDB_val v{};
  const int rc = mdb_get(state_->txn, env_->dbi(db), &k, &v);
  if (rc != 0) return lmdb_status(rc, describe(db, key), "get");
  return from_val(v);
}

Cursor Txn::cursor(Db db) const {
  if (!active()) return Cursor(state_, db, nullptr, ended(db_name(db)));
  MDB_cursor* c = nullptr;
  const int rc = mdb_cursor_open(state_->txn, env_->dbi(db), &c);
  if (rc != 0) {
    return Cursor(state_, db, nullptr, lmdb_status(rc, std::string(db_name(db)), "open cursor"));
  }
  return Cursor(state_, db, c, Status::ok());
}

Status Txn::scan(Db db, std::string_view prefix,
                 const std::function<bool(std::string_view, std::string_view)>& fn) const {
  Cursor c = cursor(db);
  for (c.seek(prefix); c.valid() && c.key().substr(0, prefix.size()) == prefix; c.next()) {
    if (!fn(c.key(), c.value())) break;
  }
  return c.status();
}

Result<std::uint64_t> Txn::entries(Db db) const {
  if (!active()) return ended(db_name(db));
  MDB_stat st{};
  const int rc = mdb_stat(state_->txn, env_->dbi(db), &st);
  if (rc != 0) return lmdb_status(rc, std::string(db_name(db)), "stat");
  return static_cast<std::uint64_t>(st.ms_entries);
}

// ---------------------------------------------------------------------------------------------
// WriteTxn

Status WriteTxn::put(Db db, std::string_view key, std::string_view value, PutMode mode) {
  if (!active()) return ended(describe(db, key));
  if (auto s = check_key(db, key); !s) return s;
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  const unsigned flags = mode == PutMode::kInsertOnly ? MDB_NOOVERWRITE : 0;
  const int rc = mdb_put(state_->txn, env_->dbi(db), &k, &v, flags);
  if (rc == 0) return Status::ok();
  if (rc == MDB_MAP_FULL) {
    state_->map_full = true;
    env_->grow_needed_ = true;
  }
  return lmdb_status(rc, describe(db, key), "put");
}

Status WriteTxn::del(Db db, std::string_view key) {
  if (!active()) return ended(describe(db, key));
  if (auto s = check_key(db, key); !s) return s;
  MDB_val k = to_val(key);
  const int rc = mdb_del(state_->txn, env_->dbi(db), &k, nullptr);
  if (rc == 0) return Status::ok();
  if (rc == MDB_MAP_FULL) {  // deleting can split pages too
    state_->map_full = true;
    env_->grow_needed_ = true;
  }
  return lmdb_status(rc, describe(db, key), "delete");
}

Status WriteTxn::commit() {
  Status s;
  end(true, &s);
  return s;
}

bool WriteTxn::hit_map_full() const {
  return state_ && state_->map_full;
}

// ---------------------------------------------------------------------------------------------
// Env

Env::Env(std::filesystem::path dir, const EnvOptions& options)
    : dir_(std::move(dir)), options_(options) {}

Env::~Env() {
  if (gate_.active() != 0) {
    // A transaction outliving its environment would read unmapped memory; fail loudly instead.
    std::fprintf(stderr, "sealhost: %s closed with %zu transaction(s) still open (a bug)\n",
                 what().c_str(), gate_.active());
    std::abort();
  }
  if (env_ != nullptr) mdb_env_close(env_);
  if (!registry_key_.empty()) {
    std::lock_guard lock(g_open_mu);
    open_dirs().erase(registry_key_);
  }
}

std::string Env::what() const {
  return "datastore " + dir_.string();
}

Result<std::unique_ptr<Env>> Env::open(const std::filesystem::path& dir,
                                       const EnvOptions& options) {
  const std::string what = "datastore " + dir.string();
  if (options.initial_map_size < kMinMapSize || options.max_map_size < options.initial_map_size) {
    return Status::invalid_argument(what +
                                    ": need 256 KiB <= initial_map_size <= max_map_size (got " +
                                    std::to_string(options.initial_map_size) + " and " +
                                    std::to_string(options.max_map_size) + " bytes)");
  }
  if (options.max_readers == 0) {
    return Status::invalid_argument(what + ": max_readers must be at least 1");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::io_error(what + ": cannot create the directory: " + ec.message() +
                            " (check the path and permissions)");
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::invalid_argument(what +
                                    ": not a directory (point the datastore at a "
                                    "directory)");
  }
  std::unique_ptr<Env> env(new Env(dir, options));
  {
    const std::string key = std::filesystem::canonical(dir, ec).string();
    if (ec) return Status::io_error(what + ": cannot resolve the path: " + ec.message());
    std::lock_guard lock(g_open_mu);
    if (!open_dirs().insert(key).second) {
      return Status::invalid_argument(what +
                                      ": already open in this process (share the open "
                                      "Env instead of opening it again)");
    }
    env->registry_key_ = key;
  }
  if (auto s = env->init(); !s) return s;
  return env;
}

Status Env::init() {
  int rc = mdb_env_create(&env_);
  if (rc != 0) return lmdb_status(rc, what(), "create environment");
  rc = mdb_env_set_maxdbs(env_, static_cast<MDB_dbi>(kDbCount));
  if (rc == 0) rc = mdb_env_set_maxreaders(env_, options_.max_readers);
  if (rc == 0) {
    rc = mdb_env_set_mapsize(env_, round_up(options_.initial_map_size, page_size()));
  }
  if (rc != 0) return lmdb_status(rc, what(), "configure environment");
  const unsigned flags = MDB_NOTLS | (options_.sync ? 0u : static_cast<unsigned>(MDB_NOSYNC));
  rc = mdb_env_open(env_, dir_.c_str(), flags, 0600);
  if (rc != 0) {
    mdb_env_close(env_);
    env_ = nullptr;
    return lmdb_status(rc, what(), "open");
  }
  // Processes that died (crash, SIGKILL) leave reader slots behind; reclaim them now.
  int dead = 0;
  mdb_reader_check(env_, &dead);
  refresh_map_size();

  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc == MDB_MAP_RESIZED) {  // grown by another process since we opened; no txn exists yet
    mdb_env_set_mapsize(env_, 0);
    refresh_map_size();
    rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  }
  if (rc != 0) return lmdb_status(rc, what(), "begin set-up transaction");
  for (std::size_t i = 0; i < kDbCount; ++i) {
    const std::string name(kDbNames[i]);
    rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &dbis_[i]);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return lmdb_status(rc, what() + " database " + name, "open");
    }
  }
  MDB_val k = to_val(kFormatKey);
  MDB_val v{};
  rc = mdb_get(txn, dbi(Db::kMeta), &k, &v);
  if (rc == MDB_NOTFOUND) {
    const std::string version = key_u64(kStoreFormatVersion);
    MDB_val nv = to_val(version);
    rc = mdb_put(txn, dbi(Db::kMeta), &k, &nv, 0);
  } else if (rc == 0) {
    const auto version = parse_key_u64(from_val(v));
    if (!version) {
      mdb_txn_abort(txn);
      return Status::corruption(what() +
                                ": meta/store_format is not an 8-byte number (restore "
                                "the datastore from a backup)");
    }
    if (*version > kStoreFormatVersion) {
      mdb_txn_abort(txn);
      return Status::version_too_new(what() + ": store format " + std::to_string(*version) +
                                     " is newer than this sealhost understands (" +
                                     std::to_string(kStoreFormatVersion) + "): upgrade sealhost");
    }
  }
  if (rc != 0) {
    mdb_txn_abort(txn);
    return lmdb_status(rc, what(), "check store format");
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) return lmdb_status(rc, what(), "commit set-up transaction");
  return Status::ok();
}

void Env::refresh_map_size() {
  MDB_envinfo info{};
  if (mdb_env_info(env_, &info) == 0) map_size_ = info.me_mapsize;
}

Result<std::shared_ptr<TxnState>> Env::begin_raw(bool write) {
  auto state = std::make_shared<TxnState>();
  state->write = write;
  if (write) {
    state->write_lock = std::unique_lock(write_mu_);
    if (grow_needed_) {
      if (auto s = grow_map(); !s) return s;
    }
  }
  bool reader_check_done = false;
  // Each retry follows a resize by another process; a handful is plenty.
  for (int attempt = 0; attempt < 16; ++attempt) {
    state->gate_owner = gate_.enter();
    const int rc = mdb_txn_begin(env_, nullptr, write ? 0 : MDB_RDONLY, &state->txn);
    if (rc == 0) return state;
    state->txn = nullptr;
    gate_.leave(state->gate_owner);
    if (rc == MDB_MAP_RESIZED) {
      if (auto s = adopt_map_size(); !s) return s;
      continue;
    }
    if (rc == MDB_READERS_FULL && !reader_check_done) {
      reader_check_done = true;
      int dead = 0;
      if (mdb_reader_check(env_, &dead) == 0 && dead > 0) continue;
      return Status::resource_exhausted(
          what() + ": begin transaction: all " + std::to_string(options_.max_readers) +
          " reader slots are in use (raise max_readers or end read transactions sooner)");
    }
    return lmdb_status(rc, what(), "begin transaction");
  }
  return Status::unavailable(what() +
                             ": begin transaction: the map kept being resized by another "
                             "process (retry)");
}

Status Env::grow_map() {
  if (!gate_.lock_exclusive(options_.resize_wait_timeout)) {
    return Status::resource_exhausted(
        what() + ": map is full at " + mib(map_size()) + " and cannot grow while " +
        std::to_string(gate_.active()) + " transaction(s) stay open for over " +
        std::to_string(options_.resize_wait_timeout.count()) +
        " ms (end long-running read transactions; never write while holding one)");
  }
  refresh_map_size();  // another process may have grown it already
  const std::uint64_t current = map_size();
  if (current >= options_.max_map_size) {
    gate_.unlock_exclusive();
    // Smaller writes may still fit; the next one that does not fit ends up back here.
    grow_needed_ = false;
    return Status::resource_exhausted(what() + ": map is full at its maximum size of " +
                                      mib(options_.max_map_size) +
                                      " (raise max_map_size or delete records)");
  }
  std::uint64_t next =
      current < kGrowthDoublingLimit ? current * 2 : current + kGrowthDoublingLimit;
  next = std::min(round_up(next, page_size()), options_.max_map_size);
  const int rc = mdb_env_set_mapsize(env_, next);
  refresh_map_size();
  gate_.unlock_exclusive();
  if (rc != 0) return lmdb_status(rc, what(), "grow map to " + mib(next));
  grow_needed_ = false;
  ++map_growths_;
  return Status::ok();
}

Status Env::adopt_map_size() {
  if (!gate_.lock_exclusive(options_.resize_wait_timeout)) {
    return Status::resource_exhausted(
        what() + ": another process grew the map, and adopting the new size waited over " +
        std::to_string(options_.resize_wait_timeout.count()) + " ms for " +
        std::to_string(gate_.active()) +
        " open transaction(s) (end long-running read transactions)");
  }
  const int rc = mdb_env_set_mapsize(env_, 0);
  refresh_map_size();
  gate_.unlock_exclusive();
  if (rc != 0) return lmdb_status(rc, what(), "adopt the map size set by another process");
  return Status::ok();
}

Result<ReadTxn> Env::begin_read() {
  auto state = begin_raw(false);
  if (!state) return state.status();
  return ReadTxn(this, std::move(*state));
}

Result<WriteTxn> Env::begin_write() {
  auto state = begin_raw(true);
  if (!state) return state.status();
  return WriteTxn(this, std::move(*state));
}

Status Env::read(const std::function<Status(ReadTxn&)>& fn) {
  auto txn = begin_read();
  if (!txn) return txn.status();
  return fn(*txn);
}

Status Env::write(const std::function<Status(WriteTxn&)>& fn) {
  // Every retry follows a growth, and growth stops at max_map_size, so this ends; the bound only
  // guards against a bug turning it into a spin.
  for (int attempt = 0; attempt < 64; ++attempt) {
    auto txn = begin_write();
    if (!txn) return txn.status();
    Status s = fn(*txn);
    if (txn->hit_map_full()) continue;  // the destructor aborts; begin_write grows
    if (!s) return s;
    s = txn->commit();
    if (s || !txn->hit_map_full()) return s;
  }
  return Status::internal(what() +
                          ": write kept running out of map space after growing it 64 "
                          "times (report this bug)");
}

Status Env::copy_to(const std::filesystem::path& dest_dir) {
  // The copy reads through a transaction of its own, so it needs a ticket like any other.
  const auto owner = gate_.enter();
  const int rc = mdb_env_copy2(env_, dest_dir.c_str(), MDB_CP_COMPACT);
  gate_.leave(owner);
  if (rc != 0) return lmdb_status(rc, what(), "copy to " + dest_dir.string());
  return Status::ok();
}

Status Env::sync() {
  const int rc = mdb_env_sync(env_, 1);
  if (rc != 0) return lmdb_status(rc, what(), "sync");
  return Status::ok();
}

}  // namespace sealhost::store
