// Key encodings. LMDB compares keys as raw bytes (memcmp), so numbers are stored big-endian to
// make iteration order equal numeric order. Keys and values are byte strings carried in
// std::string (owned) and std::string_view (borrowed); they may contain NUL bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sealhost::store {

// LMDB's compile-time key limit (mdb_env_get_maxkeysize() with the default build).
inline constexpr std::size_t kMaxKeySize = 511;

// 8 bytes, big-endian.
std::string key_u64(std::uint64_t n);
// 16 bytes: a then b, both big-endian (e.g. sector number + event sequence).
std::string key_u64_pair(std::uint64_t a, std::uint64_t b);

// nullopt unless the key is exactly 8 / 16 bytes.
std::optional<std::uint64_t> parse_key_u64(std::string_view key);
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_key_u64_pair(std::string_view key);

// Human-readable form for messages: printable ASCII as is, 8 bytes as a decimal number,
// 16 bytes as "a#b", anything else as 0x-prefixed hex.
std::string describe_key(std::string_view key);

// Lower-case hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

}  // namespace sealhost::store
