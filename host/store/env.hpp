// The metadata store: one LMDB environment (the repo's datastore/ directory) with a fixed set of
// named databases, RAII transactions, cursors and automatic map growth.
//
// Errors: every fallible call returns a [[nodiscard]] Status or Result<T> (see status.hpp); nothing
// here throws for run-time conditions.
//
// Threading and lifetime:
//  - Env is thread-safe and must outlive every transaction and cursor made from it.
//  - ReadTxn: a consistent snapshot. Use from one thread at a time; it may move between threads
//    (the environment is opened with MDB_NOTLS). Many may be open at once, in many threads.
//  - WriteTxn: one at a time per environment (others wait). It must be used, committed and
//    destroyed on the thread that began it. Destroying it without commit() aborts it.
//  - Views returned by get() and Cursor point into the map: valid until the transaction ends (and
//    in a WriteTxn, until its next put/del). Copy what you keep.
//  - A transaction held open for long blocks map growth: a write that needs a bigger map waits up
//    to EnvOptions::resize_wait_timeout for all transactions in this process to end, then fails
//    with kResourceExhausted. In particular, do not call write() while holding a ReadTxn.
//
// Map growth: the map starts at EnvOptions::initial_map_size (or the file's size if larger). A
// write that finds it full (MDB_MAP_FULL) is aborted, the map grows (doubling up to 4 GiB, then
// 4 GiB steps, capped at max_map_size) and Env::write() runs the function again. If another
// process grew the map, beginning a transaction adopts the new size (MDB_MAP_RESIZED).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "host/store/status.hpp"
#include "host/store/txn_gate.hpp"

struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace sealhost::store {

// The named databases. This enum and kDbNames are the one place the list is defined; all are
// created and opened when the environment opens. Append only: names are stored on disk.
enum class Db : std::uint8_t {
  kSectors,       // sector number (u64 BE) -> sector record
  kSectorEvents,  // sector number (u64 BE) + sequence (u64 BE) -> event record, append-only
  kCounters,      // counter name -> next value (u64 BE)
  kStoragePaths,  // storage path id -> path record
  kSectorIndex,   // which storage path holds which file type of which sector
  kWorkers,       // worker id -> worker record
  kJobs,          // job id -> job record
  kDeals,         // deal id -> deal record
  kPost,          // deadlines proven, faults declared
  kChain,         // embedded devnet chain state
  kMeta,          // store-wide facts (format version)
};

inline constexpr std::array<std::string_view, 11> kDbNames = {
    "sectors", "sector_events", "counters", "storage_paths", "sector_index", "workers",
    "jobs",    "deals",         "post",     "chain",         "meta",
};
inline constexpr std::size_t kDbCount = kDbNames.size();

std::string_view db_name(Db db);
// "sectors/42": how messages name a key.
std::string describe(Db db, std::string_view key);

// On-disk layout version of the whole store, kept in meta/"store_format". An environment written
// by a newer sealhost is refused at open.
inline constexpr std::uint64_t kStoreFormatVersion = 1;

struct EnvOptions {
  std::uint64_t initial_map_size = std::uint64_t{64} << 20;  // 64 MiB
  std::uint64_t max_map_size = std::uint64_t{1} << 40;       // 1 TiB of address space
  unsigned max_readers = 256;  // simultaneous read transactions, all processes together
  std::chrono::milliseconds resize_wait_timeout{30'000};
  // false opens with MDB_NOSYNC: commits survive a process crash but the last ones may be lost
  // (never torn) on power loss. Keep true for production.
  bool sync = true;
};

enum class PutMode {
  kUpsert,      // insert or overwrite
  kInsertOnly,  // fail with kAlreadyExists if the key exists
};

class Env;
class Txn;
struct TxnState;

// Ordered iteration over one database, RocksDB-iterator style:
//   for (c.seek(k); c.valid(); c.next()) { ... }  then check c.status().
// Moves that run off either end leave the cursor invalid with an ok status; LMDB failures leave it
// invalid with the error in status(). Must not outlive its Env; using it after its transaction
// ended yields kAborted.
class Cursor {
 public:
  Cursor(Cursor&& other) noexcept;
  Cursor& operator=(Cursor&&) = delete;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  void first();
  void last();
  void seek(std::string_view key);  // first key >= key
  void next();
  void prev();

  bool valid() const { return valid_; }
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }
  const Status& status() const { return status_; }

 private:
  friend class Txn;
  Cursor(std::shared_ptr<TxnState> state, Db db, MDB_cursor* cursor, Status status);
  void move(int op, std::string_view target);

  std::shared_ptr<TxnState> state_;
  Db db_;
  MDB_cursor* cursor_ = nullptr;
  bool valid_ = false;
  std::string_view key_;
  std::string_view value_;
  Status status_;
};

// Read operations shared by both transaction kinds.
class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  // kNotFound if absent.
  Result<std::string_view> get(Db db, std::string_view key) const;
  Cursor cursor(Db db) const;
  // Calls fn(key, value) for every key starting with `prefix`, in order, until fn returns false.
  Status scan(Db db, std::string_view prefix,
              const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  // Number of keys in db.
  Result<std::uint64_t> entries(Db db) const;

  bool active() const;
  Env& env() const { return *env_; }

 protected:
  Txn(Env* env, std::shared_ptr<TxnState> state);
  Txn(Txn&&) noexcept = default;
  Txn& operator=(Txn&&) = delete;  // would silently end the assigned-to transaction
  ~Txn();
  void end(bool commit_it, Status* commit_status);

  Env* env_;
  std::shared_ptr<TxnState> state_;
};

class ReadTxn final : public Txn {
 public:
  ReadTxn(ReadTxn&&) noexcept = default;
  ReadTxn& operator=(ReadTxn&&) = delete;
  ~ReadTxn() = default;
  // Ends the snapshot early (the destructor does the same).
  void close() { end(false, nullptr); }

 private:
  friend class Env;
  using Txn::Txn;
};

class WriteTxn final : public Txn {
 public:
  WriteTxn(WriteTxn&&) noexcept = default;
  WriteTxn& operator=(WriteTxn&&) = delete;
  ~WriteTxn() = default;

  Status put(Db db, std::string_view key, std::string_view value, PutMode mode = PutMode::kUpsert);
  // kNotFound if absent.
  Status del(Db db, std::string_view key);
  // Makes every change durable at once. The transaction has ended afterwards, even on failure.
  Status commit();
  void abort() { end(false, nullptr); }

  // True once any operation failed for lack of map space; the transaction is then unusable.
  bool hit_map_full() const;

 private:
  friend class Env;
  using Txn::Txn;
};

class Env {
 public:
  // Creates `dir` if needed, opens or creates the environment and every database, and checks the
  // store format version. A directory can be open only once per process (an LMDB rule); a second
  // open fails with kInvalidArgument until the first Env is destroyed.
  static Result<std::unique_ptr<Env>> open(const std::filesystem::path& dir,
                                           const EnvOptions& options = {});
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  Result<ReadTxn> begin_read();
  // The caller handles kResourceExhausted from a full map itself (the next write grows the map);
  // prefer write(), which retries.
  Result<WriteTxn> begin_write();

  // Runs fn in a read transaction and returns its status.
  Status read(const std::function<Status(ReadTxn&)>& fn);
  // Runs fn in a write transaction and commits if fn returns ok; aborts and returns fn's status
  // otherwise. If the map fills up, the map grows and fn runs again from scratch in a new
  // transaction, so fn must not have effects outside the transaction that a rerun would repeat.
  Status write(const std::function<Status(WriteTxn&)>& fn);

  const std::filesystem::path& dir() const { return dir_; }
  std::uint64_t map_size() const { return map_size_.load(); }
  // How often this process grew the map (for metrics and tests).
  std::uint64_t map_growths() const { return map_growths_.load(); }

  // Hot backup: writes a compacted copy into the existing empty directory `dest_dir`.
  Status copy_to(const std::filesystem::path& dest_dir);
  // Flushes to disk; only needed with EnvOptions::sync = false.
  Status sync();

 private:
  friend class Txn;
  friend class WriteTxn;
  friend class Cursor;

  Env(std::filesystem::path dir, const EnvOptions& options);
  Status init();
  Result<std::shared_ptr<TxnState>> begin_raw(bool write);
  Status grow_map();
  Status adopt_map_size();
  void refresh_map_size();
  unsigned dbi(Db db) const { return dbis_[static_cast<std::size_t>(db)]; }
  std::string what() const;  // "datastore /path"

  std::filesystem::path dir_;
  std::string registry_key_;  // canonical dir while registered as open in this process
  EnvOptions options_;
  MDB_env* env_ = nullptr;
  std::array<unsigned, kDbCount> dbis_{};
  TxnGate gate_;
  // Serialises this process's writers before they take a gate ticket, so a writer waiting its turn
  // never holds up a resize.
  std::mutex write_mu_;
  std::atomic<bool> grow_needed_{false};
  std::atomic<std::uint64_t> map_size_{0};
  std::atomic<std::uint64_t> map_growths_{0};
};

}  // namespace sealhost::store
