// The repo: a directory holding one sealhost's config, keys, API endpoint and metadata.
//
//   <repo>/config.toml     the configuration (sealhost config default)
//   <repo>/keystore/       JWT secret (Lotus-compatible KeyInfo, mode 0600)
//   <repo>/token           an admin token for the local CLI (mode 0600)
//   <repo>/api             the running daemon's multiaddr (written at start, removed at stop)
//   <repo>/datastore/      the LMDB environment
//   <repo>/repo.lock       held (flock) by the running daemon
//   <repo>/storage/        the default storage path created by `init` (unless --no-local-storage)
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace sealhost::node {

class Repo {
 public:
  // --repo flag, else $SEALHOST_REPO, else ~/.sealhost.
  static std::filesystem::path resolve(const std::optional<std::string>& flag);

  explicit Repo(std::filesystem::path dir);
  const std::filesystem::path& dir() const { return dir_; }
  bool initialized() const;
  std::filesystem::path config_file() const { return dir_ / "config.toml"; }
  std::filesystem::path keystore_dir() const { return dir_ / "keystore"; }
  std::filesystem::path datastore_dir() const { return dir_ / "datastore"; }
  std::filesystem::path api_file() const { return dir_ / "api"; }
  std::filesystem::path token_file() const { return dir_ / "token"; }
  std::filesystem::path lock_file() const { return dir_ / "repo.lock"; }
  std::filesystem::path default_storage_dir() const { return dir_ / "storage"; }

  // Creates the directory layout, the default config (with `config_text`), the JWT secret and
  // the admin token. Throws std::runtime_error when the repo is already initialised.
  void init(const std::string& config_text) const;
  // Throws a clear error when the repo has not been initialised.
  void require_initialized() const;

 private:
  std::filesystem::path dir_;
};

// Exclusive lock on <repo>/repo.lock held for the daemon's lifetime. The kernel drops it when
// the process dies, so a crashed daemon never leaves the repo locked.
class RepoLock {
 public:
  // Throws std::runtime_error naming the holder's pid when another process holds the lock.
  explicit RepoLock(const Repo& repo);
  ~RepoLock();
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace sealhost::node
