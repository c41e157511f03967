// sealhost plugin SDK: owned option values and their C view. The host builds one OptionSet per
// component instance from the validated config; tests build one from a table's defaults.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/options.hpp>
#include <sealhost/sdk/units.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::sdk {

struct OwnedValue {
  int32_t type = 0;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<std::string> list;
};

// Checks a typed value against the option's range/choices. Returns an error text or "".
inline std::string check_value(const sealhost_option_desc& d, const OwnedValue& v) {
  auto in_range = [&](int64_t x) { return d.min > d.max || (x >= d.min && x <= d.max); };
  switch (d.type) {
    case SEALHOST_OPT_INT:
      if (!in_range(v.i)) {
        return "value " + std::to_string(v.i) + " is out of range [" + std::to_string(d.min) +
               ", " + std::to_string(d.max) + "]";
      }
      break;
    case SEALHOST_OPT_SIZE:
      if (v.i < 0 || !in_range(v.i)) {
        return "size " + units::format_size(static_cast<uint64_t>(v.i)) + " is out of range [" +
               units::format_size(static_cast<uint64_t>(d.min)) + ", " +
               units::format_size(static_cast<uint64_t>(d.max)) + "]";
      }
      break;
    case SEALHOST_OPT_DURATION:
      if (v.i < 0 || !in_range(v.i)) {
        return "duration " + std::to_string(v.i) + "ms is out of range [" + std::to_string(d.min) +
               "ms, " + std::to_string(d.max) + "ms]";
      }
      break;
    case SEALHOST_OPT_DOUBLE:
      if (d.min <= d.max &&
          (v.d < static_cast<double>(d.min) || v.d > static_cast<double>(d.max))) {
        return "value is out of range [" + std::to_string(d.min) + ", " + std::to_string(d.max) +
               "]";
      }
      break;
    case SEALHOST_OPT_ENUM: {
      std::string all;
      for (size_t k = 0; k < d.choices_len; ++k) {
        if (v.s == d.choices[k]) return "";
        all += (k ? ", " : "") + std::string("\"") + d.choices[k] + "\"";
      }
      return "\"" + v.s + "\" is not one of " + all;
    }
    default:
      break;
  }
  return "";
}

// Converts a string form ("32GiB", "30s", "4", "true", "auto") into the option's type; used for
// defaults in option tables (with TOML quoting stripped) and for command-line overrides.
inline std::optional<OwnedValue> parse_text(int32_t type, std::string_view text, std::string* why) {
  auto unquote = [](std::string_view t) {
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"') return t.substr(1, t.size() - 2);
    return t;
  };
  OwnedValue v;
  v.type = type;
  std::string_view t = unquote(text);
  switch (type) {
    case SEALHOST_OPT_BOOL:
      if (t == "true")
        v.b = true;
      else if (t == "false")
        v.b = false;
      else {
        *why = "expected true or false";
        return std::nullopt;
      }
      return v;
    case SEALHOST_OPT_INT: {
      std::string s(t);
      char* end = nullptr;
      errno = 0;
      long long x = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || errno == ERANGE) {
        *why = "expected an integer";
        return std::nullopt;
      }
      v.i = x;
      return v;
    }
    case SEALHOST_OPT_DOUBLE: {
      std::string s(t);
      char* end = nullptr;
      double x = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0') {
        *why = "expected a number";
        return std::nullopt;
      }
      v.d = x;
      return v;
    }
    case SEALHOST_OPT_SIZE: {
      auto x = units::parse_size(t);
      if (!x || *x > static_cast<uint64_t>(INT64_MAX)) {
        *why = "expected a size such as \"32GiB\", \"512MiB\" or a byte count";
        return std::nullopt;
      }
      v.i = static_cast<int64_t>(*x);
      return v;
    }
    case SEALHOST_OPT_DURATION: {
      auto x = units::parse_duration_ms(t);
      if (!x || *x > static_cast<uint64_t>(INT64_MAX)) {
        *why = "expected a duration such as \"30s\", \"5m\", \"250ms\"";
        return std::nullopt;
      }
      v.i = static_cast<int64_t>(*x);
      return v;
    }
    case SEALHOST_OPT_STRING:
    case SEALHOST_OPT_ENUM:
    case SEALHOST_OPT_PATH:
      v.s = std::string(t);
      return v;
    case SEALHOST_OPT_STRING_LIST: {
      // "[]" or "[\"a\", \"b\"]"
      std::string_view r = text;
      if (r.size() < 2 || r.front() != '[' || r.back() != ']') {
        *why = "expected a list of strings";
        return std::nullopt;
      }
      r = r.substr(1, r.size() - 2);
      size_t pos = 0;
      while (pos < r.size()) {
        while (pos < r.size() && (r[pos] == ' ' || r[pos] == ',')) ++pos;
        if (pos >= r.size()) break;
        if (r[pos] != '"') {
          *why = "expected a list of strings";
          return std::nullopt;
        }
        size_t end = r.find('"', pos + 1);
        if (end == std::string_view::npos) {
          *why = "unterminated string";
          return std::nullopt;
        }
        v.list.emplace_back(r.substr(pos + 1, end - pos - 1));
        pos = end + 1;
      }
      return v;
    }
    default:
      *why = "unknown option type";
      return std::nullopt;
  }
}

// A complete, owned set of values for one option table, with a stable C view.
class OptionSet {
 public:
  OptionSet() = default;
  OptionSet(const sealhost_option_desc* table, size_t n) : table_(table), n_(n) {
    values_.resize(n);
  }
  OptionSet(const OptionSet&) = delete;
  OptionSet& operator=(const OptionSet&) = delete;
  OptionSet(OptionSet&&) = default;
  OptionSet& operator=(OptionSet&&) = default;

  size_t size() const { return n_; }
  const sealhost_option_desc& desc(size_t k) const { return table_[k]; }
  void set(size_t k, OwnedValue v) { values_[k] = std::move(v); }
  const OwnedValue& value(size_t k) const { return values_[k]; }

  // Fills every option from its table default. Throws sdk::Error on a malformed default or a
  // required option (which has no default).
  void apply_defaults() {
    for (size_t k = 0; k < n_; ++k) {
      const auto& d = table_[k];
      if (!d.default_value) {
        throw invalid_argument(std::string("option '") + d.key + "' is required");
      }
      std::string why;
      auto v = parse_text(d.type, d.default_value, &why);
      if (!v) throw invalid_argument(std::string("option '") + d.key + "' default: " + why);
      values_[k] = std::move(*v);
    }
  }
  // Sets option `key` from its text form; throws on unknown key or bad value.
  void set_text(std::string_view key, std::string_view text) {
    for (size_t k = 0; k < n_; ++k) {
      if (key != table_[k].key) continue;
      std::string why;
      auto v = parse_text(table_[k].type, text, &why);
      if (!v) throw invalid_argument("option '" + std::string(key) + "': " + why);
      auto err = check_value(table_[k], *v);
      if (!err.empty()) throw invalid_argument("option '" + std::string(key) + "': " + err);
      values_[k] = std::move(*v);
      return;
    }
    throw invalid_argument("unknown option '" + std::string(key) + "'");
  }

  // The C view; valid until this set is modified or destroyed.
  const sealhost_options* c() {
    c_values_.clear();
    c_lists_.clear();
    c_lists_.resize(n_);
    for (size_t k = 0; k < n_; ++k) {
      const auto& v = values_[k];
      sealhost_option_value o{};
      o.struct_size = sizeof o;
      o.type = table_[k].type;
      o.key = table_[k].key;
      o.b = v.b;
      o.i = v.i;
      o.d = v.d;
      o.s = to_str(v.s);
      for (const auto& e : v.list) c_lists_[k].push_back(to_str(e));
      o.list = c_lists_[k].data();
      o.list_len = c_lists_[k].size();
      c_values_.push_back(o);
    }
    c_opts_ = {sizeof(sealhost_options), 0, c_values_.data(), c_values_.size()};
    return &c_opts_;
  }

 private:
  const sealhost_option_desc* table_ = nullptr;
  size_t n_ = 0;
  std::vector<OwnedValue> values_;
  std::vector<sealhost_option_value> c_values_;
  std::vector<std::vector<sealhost_str>> c_lists_;
  sealhost_options c_opts_{};
};

}  // namespace sealhost::sdk
