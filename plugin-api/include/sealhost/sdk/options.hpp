// sealhost plugin SDK: option tables and typed access to validated options.
//
// A component declares its options as a constexpr table built with the opt_* helpers; the host
// validates the TOML against it and hands create() one value per option (defaults applied). A
// plugin then reads them through sdk::Options, usually into its own typed struct:
//
//   struct LocalOptions { bool fsync; uint64_t reserve_bytes; };
//   LocalOptions parse(const sdk::Options& o) { return {o.get_bool("fsync"),
//   o.get_size("reserve")}; }
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::sdk {

constexpr sealhost_option_desc opt_bool(const char* key, const char* def, const char* desc) {
  return {sizeof(sealhost_option_desc),
          SEALHOST_OPT_BOOL,
          0,
          0,
          key,
          def,
          0,
          -1,
          nullptr,
          0,
          nullptr,
          desc};
}
constexpr sealhost_option_desc opt_int(const char* key, const char* def, int64_t min, int64_t max,
                                       const char* unit, const char* desc) {
  return {sizeof(sealhost_option_desc),
          SEALHOST_OPT_INT,
          0,
          0,
          key,
          def,
          min,
          max,
          nullptr,
          0,
          unit,
          desc};
}
constexpr sealhost_option_desc opt_double(const char* key, const char* def, const char* unit,
                                          const char* desc) {
  return {sizeof(sealhost_option_desc),
          SEALHOST_OPT_DOUBLE,
          0,
          0,
          key,
          def,
          0,
          -1,
          nullptr,
          0,
          unit,
          desc};
}
constexpr sealhost_option_desc opt_string(const char* key, const char* def, const char* desc) {
  return {sizeof(sealhost_option_desc),
          SEALHOST_OPT_STRING,
          0,
          0,
          key,
          def,
          0,
          -1,
          nullptr,
          0,
          nullptr,
          desc};
}
constexpr sealhost_option_desc opt_path(const char* key, const char* def, const char* desc) {
  return {sizeof(sealhost_option_desc),
          SEALHOST_OPT_PATH,
          0,
          0,
          key,
          def,
          0,
          -1,
          nullptr,
          0,
          nullptr,
          desc};
}
constexpr sealhost_option_desc opt_size(const char* key, const char* def, int64_t min, int64_t max,
                                        const char* desc) {
  return {sizeof(sealhost_option_desc),
          SEALHOST_OPT_SIZE,
          0,
          0,
          key,
          def,
          min,
          max,
          nullptr,
          0,
          "bytes",
          desc};
}
constexpr sealhost_option_desc opt_duration(const char* key, const char* def, int64_t min_ms,
                                            int64_t max_ms, const char* desc) {
  return {sizeof(sealhost_option_desc),
          SEALHOST_OPT_DURATION,
          0,
          0,
          key,
          def,
          min_ms,
          max_ms,
          nullptr,
          0,
          "ms",
          desc};
}
template <size_t N>
constexpr sealhost_option_desc opt_enum(const char* key, const char* def,
                                        const char* const (&choices)[N], const char* desc) {
  return {sizeof(sealhost_option_desc),
          SEALHOST_OPT_ENUM,
          0,
          0,
          key,
          def,
          0,
          -1,
          choices,
          N,
          nullptr,
          desc};
}
constexpr sealhost_option_desc opt_list(const char* key, const char* def, const char* desc) {
  return {sizeof(sealhost_option_desc),
          SEALHOST_OPT_STRING_LIST,
          0,
          0,
          key,
          def,
          0,
          -1,
          nullptr,
          0,
          nullptr,
          desc};
}
// Marks an option as required (no default).
constexpr sealhost_option_desc required(sealhost_option_desc d) {
  d.flags |= SEALHOST_OPTF_REQUIRED;
  d.default_value = nullptr;
  return d;
}

inline const char* option_type_name(int32_t type) {
  switch (type) {
    case SEALHOST_OPT_BOOL:
      return "bool";
    case SEALHOST_OPT_INT:
      return "integer";
    case SEALHOST_OPT_DOUBLE:
      return "float";
    case SEALHOST_OPT_STRING:
      return "string";
    case SEALHOST_OPT_SIZE:
      return "size";
    case SEALHOST_OPT_DURATION:
      return "duration";
    case SEALHOST_OPT_ENUM:
      return "enum";
    case SEALHOST_OPT_PATH:
      return "path";
    case SEALHOST_OPT_STRING_LIST:
      return "string list";
    default:
      return "unknown";
  }
}

// Read-only typed view of the validated options passed to create(). Lookups throw
// sdk::Error(INVALID_ARGUMENT) naming the key when it is absent or of another type.
class Options {
 public:
  explicit Options(const sealhost_options* o) : o_(o) {}

  bool has(std::string_view key) const { return lookup(key) != nullptr; }
  bool get_bool(std::string_view key) const { return get(key, SEALHOST_OPT_BOOL).b != 0; }
  int64_t get_int(std::string_view key) const { return get(key, SEALHOST_OPT_INT).i; }
  double get_double(std::string_view key) const { return get(key, SEALHOST_OPT_DOUBLE).d; }
  uint64_t get_size(std::string_view key) const {
    return static_cast<uint64_t>(get(key, SEALHOST_OPT_SIZE).i);
  }
  std::chrono::milliseconds get_duration(std::string_view key) const {
    return std::chrono::milliseconds(get(key, SEALHOST_OPT_DURATION).i);
  }
  std::string get_string(std::string_view key) const {
    const auto* v = lookup(key);
    if (!v || (v->type != SEALHOST_OPT_STRING && v->type != SEALHOST_OPT_ENUM &&
               v->type != SEALHOST_OPT_PATH)) {
      throw missing(key, "string");
    }
    return std::string(to_view(v->s));
  }
  std::vector<std::string> get_list(std::string_view key) const {
    const auto& v = get(key, SEALHOST_OPT_STRING_LIST);
    std::vector<std::string> out;
    for (size_t i = 0; i < v.list_len; ++i) out.emplace_back(to_view(v.list[i]));
    return out;
  }

 private:
  const sealhost_option_value* lookup(std::string_view key) const {
    if (!o_ || o_->struct_size < sizeof(sealhost_options)) return nullptr;
    for (size_t i = 0; i < o_->len; ++i) {
      if (o_->values[i].key && key == o_->values[i].key) return &o_->values[i];
    }
    return nullptr;
  }
  const sealhost_option_value& get(std::string_view key, int32_t type) const {
    const auto* v = lookup(key);
    if (!v || v->type != type) throw missing(key, option_type_name(type));
    return *v;
  }
  static Error missing(std::string_view key, const char* type) {
    return invalid_argument("option '" + std::string(key) + "': no " + type +
                            " value given (the host should have validated it; rebuild the plugin "
                            "against this host's SDK)");
  }
  const sealhost_options* o_;
};

}  // namespace sealhost::sdk
