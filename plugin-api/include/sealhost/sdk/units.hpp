// sealhost plugin SDK: parsing of the size ("32GiB") and duration ("30s") notations used in
// configuration. Shared by the host's config validation and the SDK's test fakes.
#pragma once

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace sealhost::sdk::units {

namespace detail {
inline std::optional<uint64_t> parse_digits(std::string_view s, size_t& pos) {
  uint64_t v = 0;
  size_t start = pos;
  while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
    uint64_t d = static_cast<uint64_t>(s[pos] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return v;
}
inline bool mul_overflows(uint64_t a, uint64_t b) {
  return b != 0 && a > std::numeric_limits<uint64_t>::max() / b;
}
}  // namespace detail

// Parses "2048", "2KiB", "512MiB", "32GiB", "1TiB", "8MB" (decimal), "1.5GiB" is rejected.
// Returns nullopt on a malformed value or overflow.
inline std::optional<uint64_t> parse_size(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size() && s[pos] == ' ') ++pos;
  auto v = detail::parse_digits(s, pos);
  if (!v) return std::nullopt;
  while (pos < s.size() && s[pos] == ' ') ++pos;
  std::string unit(s.substr(pos));
  struct U {
    const char* name;
    uint64_t mul;
  };
  static constexpr U kUnits[] = {{"", 1},
                                 {"B", 1},
                                 {"KiB", 1ull << 10},
                                 {"MiB", 1ull << 20},
                                 {"GiB", 1ull << 30},
                                 {"TiB", 1ull << 40},
                                 {"PiB", 1ull << 50},
                                 {"KB", 1000ull},
                                 {"MB", 1000ull * 1000},
                                 {"GB", 1000ull * 1000 * 1000},
                                 {"TB", 1000ull * 1000 * 1000 * 1000},
                                 {"kB", 1000ull}};
  for (const auto& u : kUnits) {
    if (unit == u.name) {
      if (detail::mul_overflows(*v, u.mul)) return std::nullopt;
      return *v * u.mul;
    }
  }
  return std::nullopt;
}

// Parses "250ms", "30s", "5m", "2h", "1d", or a sequence like "1h30m"; a bare integer is
// milliseconds. Returns milliseconds, nullopt when malformed.
inline std::optional<uint64_t> parse_duration_ms(std::string_view s) {
  size_t pos = 0;
  uint64_t total = 0;
  bool any = false;
  while (pos < s.size()) {
    auto v = detail::parse_digits(s, pos);
    if (!v) return std::nullopt;
    size_t ustart = pos;
    while (pos < s.size() && std::isalpha(static_cast<unsigned char>(s[pos]))) ++pos;
    std::string_view unit = s.substr(ustart, pos - ustart);
    uint64_t mul;
    if (unit.empty()) {
      if (any || pos != s.size()) return std::nullopt;
      mul = 1;
    } else if (unit == "ms") {
      mul = 1;
    } else if (unit == "s") {
      mul = 1000;
    } else if (unit == "m") {
      mul = 60'000;
    } else if (unit == "h") {
      mul = 3'600'000;
    } else if (unit == "d") {
      mul = 86'400'000;
    } else {
      return std::nullopt;
    }
    if (detail::mul_overflows(*v, mul)) return std::nullopt;
    total += *v * mul;
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

// Formats bytes with the largest binary unit that divides it exactly ("32GiB", "1000B").
inline std::string format_size(uint64_t bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int i = 0;
  while (i < 5 && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++i;
  }
  return std::to_string(bytes) + kNames[i];
}

// Formats bytes for humans with one decimal ("1.5 GiB").
inline std::string format_size_human(uint64_t bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int i = 0;
  while (i < 5 && v >= 1024.0) {
    v /= 1024.0;
    ++i;
  }
  char buf[32];
  if (i == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kNames[i]);
  }
  return buf;
}

}  // namespace sealhost::sdk::units
