// Shared helpers of the SDR tests: tests/vectors/sdr.json and small utilities.
#pragma once

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "proofs/sdr/seal_proof.hpp"

namespace sealhost::proofs::sdr::testing {

inline const nlohmann::json& sdr_vectors() {
  static const nlohmann::json kDoc = [] {
    const std::string path = std::string(SEALHOST_TEST_VECTORS) + "/sdr.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
  }();
  return kDoc;
}

inline const nlohmann::json& vector_by_id(const std::string& id) {
  for (const auto& v : sdr_vectors().at("vectors")) {
    if (v.at("id") == id) return v;
  }
  throw std::runtime_error("vector " + id + " not in sdr.json");
}

inline ApiVersion api_from_string(const std::string& s) {
  if (s.rfind("V1_0_0", 0) == 0) return ApiVersion::V1_0_0;
  if (s.rfind("V1_1_0", 0) == 0) return ApiVersion::V1_1_0;
  if (s.rfind("V1_2_0", 0) == 0) return ApiVersion::V1_2_0;
  throw std::runtime_error("unknown api version " + s);
}

// Four u64 limbs (l0 least significant) -> 32 little-endian bytes.
inline Bytes32 bytes_from_limbs(const nlohmann::json& limbs) {
  Bytes32 out{};
  for (size_t i = 0; i < 4; ++i) {
    const uint64_t l = std::stoull(limbs.at(i).get<std::string>(), nullptr, 16);
    for (size_t b = 0; b < 8; ++b) out[8 * i + b] = static_cast<uint8_t>(l >> (8 * b));
  }
  return out;
}

}  // namespace sealhost::proofs::sdr::testing
