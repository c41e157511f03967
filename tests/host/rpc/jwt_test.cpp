#include "host/rpc/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

namespace sealhost::rpc {
namespace {

namespace fs = std::filesystem;

JwtSecret counting_secret() {
  std::vector<unsigned char> bytes(32);
  std::iota(bytes.begin(), bytes.end(), 0);
  return JwtSecret(bytes);
}

// Tokens computed independently (Python hmac/base64) for secret bytes 0..31 in the exact byte
// layout Lotus (gbrlsnchs/jwt) produces; the header part is the one every Lotus token starts with.
constexpr const char* kReadWriteToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiXX0."
    "a2dV0UrA0kX6qMxjUfdyJZUwmw8W-rDDjES_OWZDB94";
constexpr const char* kAdminToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiLCJzaWduIiwiYWRtaW4iXX0."
    "5lRaUKL6YDoISGlo14xwpeeacUF8a9HmOlEQ3ukDj_o";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sealhost-jwt-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(Base64Url, Rfc4648VectorsWithoutPadding) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : cases) {
    EXPECT_EQ(base64url_encode(std::string_view(plain)), coded) << "encoding " << plain;
    auto back = base64url_decode(coded);
    ASSERT_TRUE(back.has_value()) << "decoding " << coded;
    EXPECT_EQ(*back, plain);
  }
}

TEST(Base64Url, UsesUrlAlphabet) {
  const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64url_encode(std::span<const unsigned char>(bytes)), "-_-_");
}

TEST(Base64Url, RejectsPaddingForeignCharsAndBadLengths) {
  EXPECT_FALSE(base64url_decode("Zg==").has_value()) << "padding is not base64url-for-JWT";
  EXPECT_FALSE(base64url_decode("Zm+v").has_value()) << "'+' belongs to the standard alphabet";
  EXPECT_FALSE(base64url_decode("Zm9vY").has_value()) << "length % 4 == 1 is impossible";
  EXPECT_FALSE(base64url_decode("Zh").has_value()) << "non-canonical trailing bits";
}

TEST(Perms, UpToGivesTheLotusLadder) {
  EXPECT_EQ(PermSet::up_to(Perm::kRead).names(), (std::vector<std::string>{"read"}));
  EXPECT_EQ(PermSet::up_to(Perm::kWrite).names(), (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(PermSet::up_to(Perm::kAdmin).to_string(), "read, write, sign, admin");
  EXPECT_EQ(PermSet{}.to_string(), "none");
  EXPECT_EQ(parse_perm("sign"), Perm::kSign);
  EXPECT_FALSE(parse_perm("Admin").has_value()) << "names are case-sensitive, as in Lotus";
}

TEST(Jwt, MatchesLotusByteForByte) {
  const auto secret = counting_secret();
  EXPECT_EQ(create_token(secret, Perm::kWrite), kReadWriteToken);
  EXPECT_EQ(create_token(secret, Perm::kAdmin), kAdminToken);
}

TEST(Jwt, VerifiesLotusTokens) {
  const auto secret = counting_secret();
  auto rw = verify_token(secret, kReadWriteToken);
  ASSERT_TRUE(rw.ok()) << rw.error;
  EXPECT_EQ(rw.perms, PermSet::up_to(Perm::kWrite));
  auto admin = verify_token(secret, kAdminToken);
  ASSERT_TRUE(admin.ok()) << admin.error;
  EXPECT_TRUE(admin.perms.has(Perm::kAdmin));
}

TEST(Jwt, RoundTripsEveryPermSet) {
  const auto secret = JwtSecret::generate();
  for (unsigned bits = 0; bits < 16; ++bits) {
    PermSet perms;
    for (Perm p : kAllPerms) {
      if (bits & (1U << static_cast<unsigned>(p))) perms.add(p);
    }
    auto v = verify_token(secret, create_token(secret, perms));
    ASSERT_TRUE(v.ok()) << v.error;
    EXPECT_EQ(v.perms, perms) << "bits " << bits;
  }
}

TEST(Jwt, RejectsWrongSecret) {
  auto v = verify_token(JwtSecret::generate(), kAdminToken);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(v.error.find("signature mismatch"), std::string::npos) << v.error;
}

TEST(Jwt, RejectsTamperedPayload) {
  // Swap the read+write payload into the admin token (and vice versa): signatures no longer fit.
  const std::string rw = kReadWriteToken;
  const std::string admin = kAdminToken;
  const auto payload = [](const std::string& t) {
    const auto a = t.find('.'), b = t.find('.', a + 1);
    return t.substr(a + 1, b - a - 1);
  };
  std::string forged = rw;
  forged.replace(rw.find('.') + 1, payload(rw).size(), payload(admin));
  EXPECT_FALSE(verify_token(counting_secret(), forged).ok());
}

TEST(Jwt, RejectsTamperedSignatureAndHeader) {
  std::string token = kReadWriteToken;
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_token(counting_secret(), token).ok());

  // A correctly signed token with alg "none" must still be refused.
  const auto secret = counting_secret();
  const std::string header = base64url_encode(std::string_view(R"({"alg":"none","typ":"JWT"})"));
  const std::string payload = base64url_encode(std::string_view(R"({"Allow":["admin"]})"));
  const std::string good = create_token(secret, PermSet{Perm::kAdmin});
  const std::string unsigned_token = header + "." + payload + ".";
  auto v = verify_token(secret, unsigned_token);
  EXPECT_FALSE(v.ok());
  EXPECT_TRUE(verify_token(secret, good).ok());
}

TEST(Jwt, RejectsMalformedTokens) {
  const auto secret = counting_secret();
  for (const char* bad : {"", "abc", "a.b", "a.b.c.d", "..", "!!.!!.!!"}) {
    auto v = verify_token(secret, bad);
    EXPECT_FALSE(v.ok()) << "accepted '" << bad << "'";
    EXPECT_FALSE(v.error.empty());
  }
}

// Signs `header.payload` the way a foreign issuer would, to test payload handling on its own.
std::string sign_by_hand(const JwtSecret& secret, std::string_view header,
                         std::string_view payload) {
  const std::string si = base64url_encode(header) + "." + base64url_encode(payload);
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.bytes().data(), static_cast<int>(secret.bytes().size()),
       reinterpret_cast<const unsigned char*>(si.data()), si.size(), mac, &len);
  return si + "." + base64url_encode(std::span<const unsigned char>(mac, len));
}

TEST(Jwt, UnknownPermsGrantNothing) {
  const auto secret = counting_secret();
  auto v = verify_token(secret, sign_by_hand(secret, R"({"alg":"HS256","typ":"JWT"})",
                                             R"({"Allow":["read","root"]})"));
  ASSERT_TRUE(v.ok()) << v.error;
  EXPECT_EQ(v.perms, PermSet{Perm::kRead});
}

TEST(Jwt, RejectsSignedButMalformedContent) {
  const auto secret = counting_secret();
  const char* hs256 = R"({"alg":"HS256","typ":"JWT"})";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"alg":"HS512","typ":"JWT"})", R"({"Allow":["read"]})"},
      {"[]", R"({"Allow":["read"]})"},
      {hs256, R"({"allow":["read"]})"},
      {hs256, R"({"Allow":"read"})"},
      {hs256, R"({"Allow":[1]})"},
      {hs256, "not json"},
  };
  for (const auto& [header, payload] : cases) {
    auto v = verify_token(secret, sign_by_hand(secret, header, payload));
    EXPECT_FALSE(v.ok()) << "accepted header " << header << " payload " << payload;
  }
}

TEST(JwtSecretFile, CreatesWithMode0600AndReloadsSameKey) {
  TempDir dir;
  const auto keystore = dir.path() / "keystore";
  auto first = load_or_create_jwt_secret(keystore);
  EXPECT_EQ(first.bytes().size(), JwtSecret::kGeneratedBytes);
  const auto file = keystore / kJwtSecretFileName;
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  ASSERT_EQ(::stat(keystore.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700U);

  auto second = load_or_create_jwt_secret(keystore);
  EXPECT_TRUE(std::equal(first.bytes().begin(), first.bytes().end(), second.bytes().begin(),
                         second.bytes().end()));
  // A token from the first load verifies with the reloaded secret.
  EXPECT_TRUE(verify_token(second, create_token(first, Perm::kAdmin)).ok());

  std::ifstream in(file);
  const auto info = nlohmann::json::parse(in);
  EXPECT_EQ(info["Type"], "jwt-hmac-secret");
  EXPECT_TRUE(info["PrivateKey"].is_string());
}

TEST(JwtSecretFile, ReadsLotusKeystoreEntry) {
  TempDir dir;
  const auto file = dir.path() / kJwtSecretFileName;
  write_private_file(
      file,
      R"({"Type":"jwt-hmac-secret","PrivateKey":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="})");
  auto secret = load_jwt_secret(file);
  EXPECT_EQ(create_token(secret, Perm::kWrite), kReadWriteToken);
}

TEST(JwtSecretFile, RefusesGroupOrOtherReadable) {
  TempDir dir;
  auto keystore = dir.path();
  (void)load_or_create_jwt_secret(keystore);
  const auto file = keystore / kJwtSecretFileName;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  try {
    (void)load_or_create_jwt_secret(keystore);
    FAIL() << "a group-readable secret was accepted";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("mode 0640"), std::string::npos) << msg;
    EXPECT_NE(msg.find("chmod 600"), std::string::npos) << msg;
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  }
}

TEST(JwtSecretFile, ReportsUncreatableKeystore) {
  TempDir dir;
  const auto blocker = dir.path() / "file";
  write_private_file(blocker, "x");
  try {
    (void)load_or_create_jwt_secret(blocker / "keystore");
    FAIL() << "created a keystore below a regular file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create directory"), std::string::npos) << e.what();
  }
}

TEST(JwtSecretFile, RefusesGarbageAndWrongType) {
  TempDir dir;
  const auto file = dir.path() / "secret";
  write_private_file(file, "not json");
  EXPECT_THROW((void)load_jwt_secret(file), std::runtime_error);
  write_private_file(file, R"({"Type":"bls","PrivateKey":"AAAA"})");
  try {
    (void)load_jwt_secret(file);
    FAIL() << "wrong key type accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'bls'"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)load_jwt_secret(dir.path() / "missing"), std::runtime_error);
}

}  // namespace
}  // namespace sealhost::rpc
