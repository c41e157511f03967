#include "host/store/keys.hpp"

namespace sealhost::store {
namespace {

void append_be(std::string& out, std::uint64_t n) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((n >> shift) & 0xffu));
  }
}

std::uint64_t read_be(std::string_view bytes) {
  std::uint64_t n = 0;
  for (unsigned char c : bytes.substr(0, 8)) n = (n << 8) | c;
  return n;
}

bool printable(std::string_view key) {
  if (key.empty()) return false;
  for (unsigned char c : key) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string key_u64(std::uint64_t n) {
  std::string out;
  out.reserve(8);
  append_be(out, n);
  return out;
}

std::string key_u64_pair(std::uint64_t a, std::uint64_t b) {
  std::string out;
  out.reserve(16);
  append_be(out, a);
  append_be(out, b);
  return out;
}

std::optional<std::uint64_t> parse_key_u64(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  return read_be(key);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_key_u64_pair(std::string_view key) {
  if (key.size() != 16) return std::nullopt;
  return std::pair{read_be(key.substr(0, 8)), read_be(key.substr(8, 8))};
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::string describe_key(std::string_view key) {
  if (printable(key)) return std::string(key);
  if (auto n = parse_key_u64(key)) return std::to_string(*n);
  if (auto p = parse_key_u64_pair(key)) {
    return std::to_string(p->first) + "#" + std::to_string(p->second);
  }
  return "0x" + to_hex(key);
}

}  // namespace sealhost::store
