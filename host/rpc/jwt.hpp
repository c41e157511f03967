// JWT (HS256) API tokens in Lotus's format, and the permission model of the JSON-RPC API.
//
// A token is `base64url(header).base64url(payload).base64url(HMAC-SHA256(secret, first two))`,
// without padding, with header `{"alg":"HS256","typ":"JWT"}` and payload
// `{"Allow":["read","write"]}`, exactly as Lotus (`lotus auth create-token`) writes them, so a
// token made by either side with the same secret is byte-identical.
//
// Permissions: read < write < sign < admin. A token lists every permission it grants; a method
// needs one permission, and a call is allowed when the token lists it. `PermSet::up_to(kWrite)`
// is {read, write}, which is what `sealhost auth create-token --perm write` issues (as Lotus).
//
// Threading: every function here is thread-safe; JwtSecret is an immutable value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::rpc {

enum class Perm : std::uint8_t { kRead = 0, kWrite = 1, kSign = 2, kAdmin = 3 };

inline constexpr Perm kAllPerms[] = {Perm::kRead, Perm::kWrite, Perm::kSign, Perm::kAdmin};

// "read", "write", "sign", "admin".
std::string_view perm_name(Perm perm);
// Inverse of perm_name; nullopt for anything else (case-sensitive, as Lotus).
std::optional<Perm> parse_perm(std::string_view name);

// A set of permissions (a small bit set; cheap to copy).
class PermSet {
 public:
  constexpr PermSet() = default;
  constexpr PermSet(std::initializer_list<Perm> perms) {
    for (Perm p : perms) add(p);
  }
  // Every permission up to and including `highest`: up_to(kSign) = {read, write, sign}.
  static constexpr PermSet up_to(Perm highest) {
    PermSet s;
    for (Perm p : kAllPerms) {
      if (p <= highest) s.add(p);
    }
    return s;
  }
  static constexpr PermSet all() { return up_to(Perm::kAdmin); }

  constexpr void add(Perm p) { bits_ |= bit(p); }
  constexpr bool has(Perm p) const { return (bits_ & bit(p)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const PermSet&) const = default;

  // Names in model order, e.g. {"read", "write"}.
  std::vector<std::string> names() const;
  // "read, write" (or "none").
  std::string to_string() const;

 private:
  static constexpr std::uint8_t bit(Perm p) {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(p));
  }
  std::uint8_t bits_ = 0;
};

// The HMAC key. Lotus uses 32 random bytes; any non-empty key verifies.
class JwtSecret {
 public:
  static constexpr std::size_t kGeneratedBytes = 32;

  // Throws std::invalid_argument when `bytes` is empty.
  explicit JwtSecret(std::vector<unsigned char> bytes);
  // 32 bytes from OpenSSL RAND_bytes; throws std::runtime_error if the CSPRNG fails.
  static JwtSecret generate();

  std::span<const unsigned char> bytes() const { return bytes_; }

 private:
  std::vector<unsigned char> bytes_;
};

// Base64url without padding (RFC 4648 §5), as JWT uses.
std::string base64url_encode(std::span<const unsigned char> data);
std::string base64url_encode(std::string_view data);
// Rejects padding, characters outside the url alphabet and impossible lengths (len % 4 == 1).
std::optional<std::string> base64url_decode(std::string_view text);

// A token granting exactly `perms`.
std::string create_token(const JwtSecret& secret, PermSet perms);
// A token granting everything up to `highest` (what `auth create-token --perm <highest>` gives).
inline std::string create_token(const JwtSecret& secret, Perm highest) {
  return create_token(secret, PermSet::up_to(highest));
}

// Outcome of verify_token: `perms` when `error` is empty.
struct [[nodiscard]] TokenVerification {
  PermSet perms;
  std::string error;  // lower-case reason, e.g. "signature mismatch"
  bool ok() const { return error.empty(); }
};

// Checks structure, header (alg must be HS256: "none" and other algorithms are refused), the
// signature (constant-time compare) and the payload's "Allow" list. Unknown permission names in
// "Allow" are ignored (they grant nothing), so tokens from newer versions still work.
TokenVerification verify_token(const JwtSecret& secret, std::string_view token);

// ---- Secret storage (Lotus-compatible keystore entry) ----------------------------------------
//
// Lotus keeps the secret in `<repo>/keystore/MF2XI2BNNJ3XILLQOJUXMYLUMU` (base32 of
// "auth-jwt-private") as KeyInfo JSON `{"Type":"jwt-hmac-secret","PrivateKey":"<base64>"}`.
// We use the same name and format so a sealhost keystore and a Lotus one are interchangeable.

inline constexpr std::string_view kJwtSecretFileName = "MF2XI2BNNJ3XILLQOJUXMYLUMU";
inline constexpr std::string_view kJwtKeyType = "jwt-hmac-secret";

// Reads the secret from `file`. Throws std::runtime_error (message names the file and says what
// to do) when it is missing, unreadable, readable by group or others, or not valid KeyInfo JSON.
JwtSecret load_jwt_secret(const std::filesystem::path& file);

// Loads `<keystore_dir>/MF2XI2BNNJ3XILLQOJUXMYLUMU`, creating the directory (mode 0700) and a new
// random secret (mode 0600) when the file does not exist. Throws std::runtime_error like
// load_jwt_secret, or when the directory cannot be created or written.
JwtSecret load_or_create_jwt_secret(const std::filesystem::path& keystore_dir);

// Writes `content` to `file` with mode 0600 (created with that mode, so it is never briefly
// readable by others; an existing file is replaced atomically via a temp file + rename).
// Useful for the repo's `token` file too. Throws std::runtime_error naming the file.
void write_private_file(const std::filesystem::path& file, std::string_view content);

}  // namespace sealhost::rpc
