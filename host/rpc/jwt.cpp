#include "host/rpc/jwt.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace sealhost::rpc {
namespace {

constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The fixed header Lotus (gbrlsnchs/jwt) writes; byte-identical so tokens match.
constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";

std::string encode(std::span<const unsigned char> data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                            std::uint32_t{data[i + 2]};
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{data[i]} << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

// Decodes unpadded text; `alphabet` gives the two non-alphanumeric characters.
std::optional<std::string> decode(std::string_view text, std::string_view alphabet) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::array<int, 256> value{};
  value.fill(-1);
  for (std::size_t k = 0; k < alphabet.size(); ++k) {
    value[static_cast<unsigned char>(alphabet[k])] = static_cast<int>(k);
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Non-canonical encodings (leftover bits set) would let two strings decode the same.
  if (bits > 0 && (acc & ((1U << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::optional<std::string> decode_std_padded(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  return decode(text, kStdAlphabet);
}

std::array<unsigned char, 32> hmac_sha256(const JwtSecret& secret, std::string_view message) {
  std::array<unsigned char, 32> mac{};
  unsigned int len = 0;
  const auto key = secret.bytes();
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(),
           &len) == nullptr ||
      len != mac.size()) {
    throw std::runtime_error("jwt: HMAC-SHA256 failed in OpenSSL");
  }
  return mac;
}

std::runtime_error file_error(const std::filesystem::path& file, const std::string& what) {
  return std::runtime_error("jwt secret " + file.string() + ": " + what);
}

}  // namespace

std::string_view perm_name(Perm perm) {
  switch (perm) {
    case Perm::kRead:
      return "read";
    case Perm::kWrite:
      return "write";
    case Perm::kSign:
      return "sign";
    case Perm::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::optional<Perm> parse_perm(std::string_view name) {
  for (Perm p : kAllPerms) {
    if (perm_name(p) == name) return p;
  }
  return std::nullopt;
}

std::vector<std::string> PermSet::names() const {
  std::vector<std::string> out;
  for (Perm p : kAllPerms) {
    if (has(p)) out.emplace_back(perm_name(p));
  }
  return out;
}

std::string PermSet::to_string() const {
  if (empty()) return "none";
  std::string out;
  for (const auto& n : names()) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

JwtSecret::JwtSecret(std::vector<unsigned char> bytes) : bytes_(std::move(bytes)) {
  if (bytes_.empty()) throw std::invalid_argument("jwt secret: empty key (regenerate the secret)");
}

JwtSecret JwtSecret::generate() {
  std::vector<unsigned char> bytes(kGeneratedBytes);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error(
        "jwt secret: OpenSSL RAND_bytes failed (is the system CSPRNG seeded?)");
  }
  return JwtSecret(std::move(bytes));
}

std::string base64url_encode(std::span<const unsigned char> data) {
  return encode(data, kUrlAlphabet, false);
}

std::string base64url_encode(std::string_view data) {
  return base64url_encode(
      std::span(reinterpret_cast<const unsigned char*>(data.data()), data.size()));
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, kUrlAlphabet);
}

std::string create_token(const JwtSecret& secret, PermSet perms) {
  nlohmann::json payload = {{"Allow", perms.names()}};
  std::string signing_input = base64url_encode(kHeaderJson);
  signing_input += '.';
  signing_input += base64url_encode(payload.dump());
  const auto mac = hmac_sha256(secret, signing_input);
  signing_input += '.';
  signing_input += base64url_encode(mac);
  return signing_input;
}

TokenVerification verify_token(const JwtSecret& secret, std::string_view token) {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return {{}, "malformed token: expected three dot-separated parts"};
  }
  const std::string_view signing_input = token.substr(0, dot2);
  const auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!signature) return {{}, "malformed token: signature is not base64url"};

  // Check the signature before looking at any content an attacker controls.
  const auto expected = hmac_sha256(secret, signing_input);
  if (signature->size() != expected.size() ||
      CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return {{}, "signature mismatch (token made with another secret, or altered)"};
  }

  const auto header_text = base64url_decode(token.substr(0, dot1));
  if (!header_text) return {{}, "malformed token: header is not base64url"};
  const auto header = nlohmann::json::parse(*header_text, nullptr, false);
  if (!header.is_object()) return {{}, "malformed token: header is not a JSON object"};
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get_ref<const std::string&>() != "HS256") {
    return {{}, "unsupported token algorithm (only HS256 is accepted)"};
  }

  const auto payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload_text) return {{}, "malformed token: payload is not base64url"};
  const auto payload = nlohmann::json::parse(*payload_text, nullptr, false);
  if (!payload.is_object()) return {{}, "malformed token: payload is not a JSON object"};
  const auto allow = payload.find("Allow");
  if (allow == payload.end() || !allow->is_array()) {
    return {{}, "malformed token: payload has no \"Allow\" list"};
  }
  PermSet perms;
  for (const auto& item : *allow) {
    if (!item.is_string()) return {{}, "malformed token: \"Allow\" holds a non-string"};
    if (auto p = parse_perm(item.get_ref<const std::string&>())) perms.add(*p);
  }
  return {perms, {}};
}

JwtSecret load_jwt_secret(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    throw file_error(
        file, std::string(std::strerror(errno)) + " (run `sealhost init` to create the keystore)");
  }
  if (!S_ISREG(st.st_mode)) throw file_error(file, "not a regular file (remove it)");
  if ((st.st_mode & 077) != 0) {
    std::ostringstream mode;
    mode << std::oct << (st.st_mode & 0777);
    throw file_error(file, "mode 0" + mode.str() +
                               " lets group/others read the secret (run `chmod 600 " +
                               file.string() + "`, and rotate the secret if others had access)");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw file_error(file, "cannot open for reading (check its owner)");
  std::stringstream text;
  text << in.rdbuf();
  const auto info = nlohmann::json::parse(text.str(), nullptr, false);
  if (!info.is_object() || !info.contains("Type") || !info.contains("PrivateKey") ||
      !info["Type"].is_string() || !info["PrivateKey"].is_string()) {
    throw file_error(file,
                     "not a keystore entry {\"Type\":..,\"PrivateKey\":..} (remove it to make a "
                     "new secret; existing tokens then stop working)");
  }
  if (info["Type"].get<std::string>() != kJwtKeyType) {
    throw file_error(file, "key type is '" + info["Type"].get<std::string>() + "', expected '" +
                               std::string(kJwtKeyType) + "'");
  }
  auto key = decode_std_padded(info["PrivateKey"].get<std::string>());
  if (!key || key->empty()) throw file_error(file, "PrivateKey is not non-empty base64");
  return JwtSecret(std::vector<unsigned char>(key->begin(), key->end()));
}

JwtSecret load_or_create_jwt_secret(const std::filesystem::path& keystore_dir) {
  const auto file = keystore_dir / kJwtSecretFileName;
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) return load_jwt_secret(file);
  if (!std::filesystem::exists(keystore_dir, ec)) {
    std::filesystem::create_directories(keystore_dir, ec);
    if (ec) {
      throw std::runtime_error("keystore " + keystore_dir.string() +
                               ": cannot create directory: " + ec.message());
    }
    std::filesystem::permissions(keystore_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  auto secret = JwtSecret::generate();
  const auto key = secret.bytes();
  const nlohmann::json info = {{"Type", kJwtKeyType},
                               {"PrivateKey", encode(key, kStdAlphabet, true)}};
  write_private_file(file, info.dump());
  return secret;
}

void write_private_file(const std::filesystem::path& file, std::string_view content) {
  auto tmp = file;
  tmp += ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error(file.string() + ": cannot create: " + std::strerror(errno) +
                             " (check the directory exists and is writable)");
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error(file.string() + ": write failed: " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  // fchmod guards against a umask-independent surprise (e.g. ACL defaults).
  const bool synced = ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  const int sync_err = errno;
  if (::close(fd) != 0 || !synced) {
    const int err = synced ? errno : sync_err;
    ::unlink(tmp.c_str());
    throw std::runtime_error(file.string() + ": cannot finish writing: " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error(file.string() + ": cannot rename into place: " + std::strerror(err));
  }
}

}  // namespace sealhost::rpc
