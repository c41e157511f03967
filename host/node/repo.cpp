#include "host/node/repo.hpp"

#include "host/rpc/jwt.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace sealhost::node {

std::filesystem::path Repo::resolve(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return std::filesystem::absolute(*flag);
  if (const char* env = std::getenv("SEALHOST_REPO"); env && *env) {
    return std::filesystem::absolute(env);
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/root") / ".sealhost";
}

Repo::Repo(std::filesystem::path dir) : dir_(std::move(dir)) {}

bool Repo::initialized() const {
  return std::filesystem::exists(config_file());
}

void Repo::require_initialized() const {
  if (!initialized()) {
    throw std::runtime_error("repo " + dir_.string() +
                             ": not initialised (run `sealhost init --repo " + dir_.string() +
                             "` first, or set SEALHOST_REPO)");
  }
}

void Repo::init(const std::string& config_text) const {
  if (initialized()) {
    throw std::runtime_error("repo " + dir_.string() + ": already initialised (" +
                             config_file().string() + " exists)");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    throw std::runtime_error("repo " + dir_.string() + ": cannot create: " + ec.message());
  }
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  std::filesystem::create_directories(datastore_dir(), ec);
  auto secret = rpc::load_or_create_jwt_secret(keystore_dir());
  rpc::write_private_file(token_file(), rpc::create_token(secret, rpc::Perm::kAdmin));
  // The config is written last: its presence marks the repo as initialised.
  std::string tmp = config_file().string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << config_text;
    if (!out.flush()) throw std::runtime_error("repo: cannot write " + tmp);
  }
  std::filesystem::rename(tmp, config_file());
}

RepoLock::RepoLock(const Repo& repo) {
  auto path = repo.lock_file();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw std::runtime_error("repo lock " + path.string() +
                             ": cannot open: " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("repo " + repo.dir().string() +
                             " is in use by another sealhost daemon (pid " + pid +
                             "): stop it with `sealhost stop` or use another --repo");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

RepoLock::~RepoLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
}

}  // namespace sealhost::node
