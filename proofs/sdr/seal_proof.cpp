#include "proofs/sdr/seal_proof.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::sdr {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = kKiB * 1024;
constexpr uint64_t kGiB = kMiB * 1024;

constexpr SealProof make(std::string_view name, std::string_view alias, uint64_t id, uint64_t size,
                         uint32_t layers, ApiVersion api, bool synthetic) {
  return SealProof{name, alias, id, size, size / 32, layers, api, synthetic};
}

// go-state-types abi/sector.go numbering; layers from filecoin-proofs constants.rs; API versions
// from rust-filecoin-proofs-api registry.rs (synthetic PoRep is 1.2.0 despite its name).
constexpr SealProof kProofs[] = {
    make("StackedDrg2KiBV1", "2KiB-v1", 0, 2 * kKiB, 2, ApiVersion::V1_0_0, false),
    make("StackedDrg8MiBV1", "8MiB-v1", 1, 8 * kMiB, 2, ApiVersion::V1_0_0, false),
    make("StackedDrg512MiBV1", "512MiB-v1", 2, 512 * kMiB, 2, ApiVersion::V1_0_0, false),
    make("StackedDrg32GiBV1", "32GiB-v1", 3, 32 * kGiB, 11, ApiVersion::V1_0_0, false),
    make("StackedDrg64GiBV1", "64GiB-v1", 4, 64 * kGiB, 11, ApiVersion::V1_0_0, false),
    make("StackedDrg2KiBV1_1", "2KiB-v1.1", 5, 2 * kKiB, 2, ApiVersion::V1_1_0, false),
    make("StackedDrg8MiBV1_1", "8MiB-v1.1", 6, 8 * kMiB, 2, ApiVersion::V1_1_0, false),
    make("StackedDrg512MiBV1_1", "512MiB-v1.1", 7, 512 * kMiB, 2, ApiVersion::V1_1_0, false),
    make("StackedDrg32GiBV1_1", "32GiB-v1.1", 8, 32 * kGiB, 11, ApiVersion::V1_1_0, false),
    make("StackedDrg64GiBV1_1", "64GiB-v1.1", 9, 64 * kGiB, 11, ApiVersion::V1_1_0, false),
    make("StackedDrg2KiBV1_1_Feat_SyntheticPoRep", "2KiB-synth", 10, 2 * kKiB, 2,
         ApiVersion::V1_2_0, true),
    make("StackedDrg8MiBV1_1_Feat_SyntheticPoRep", "8MiB-synth", 11, 8 * kMiB, 2,
         ApiVersion::V1_2_0, true),
    make("StackedDrg512MiBV1_1_Feat_SyntheticPoRep", "512MiB-synth", 12, 512 * kMiB, 2,
         ApiVersion::V1_2_0, true),
    make("StackedDrg32GiBV1_1_Feat_SyntheticPoRep", "32GiB-synth", 13, 32 * kGiB, 11,
         ApiVersion::V1_2_0, true),
    make("StackedDrg64GiBV1_1_Feat_SyntheticPoRep", "64GiB-synth", 14, 64 * kGiB, 11,
         ApiVersion::V1_2_0, true),
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string valid_names() {
  std::string out;
  for (const auto& p : kProofs) {
    if (!out.empty()) out += ", ";
    out += std::string(p.name) + " (" + std::string(p.alias) + ")";
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const char* api_version_name(ApiVersion v) {
  switch (v) {
    case ApiVersion::V1_0_0:
      return "1.0.0";
    case ApiVersion::V1_1_0:
      return "1.1.0";
    case ApiVersion::V1_2_0:
      return "1.2.0";
  }
  return "unknown";
}

std::span<const SealProof> all_seal_proofs() {
  return kProofs;
}

const SealProof& lookup_seal_proof(std::string_view name_or_alias) {
  for (const auto& p : kProofs) {
    if (iequals(p.name, name_or_alias) || iequals(p.alias, name_or_alias)) return p;
  }
  throw SdrError("seal proof '" + std::string(name_or_alias) +
                 "': unknown (use one of: " + valid_names() + ")");
}

const SealProof& seal_proof_by_id(uint64_t id) {
  for (const auto& p : kProofs) {
    if (p.id == id) return p;
  }
  throw SdrError("seal proof id " + std::to_string(id) +
                 ": unknown or unsupported (supported ids are 0-14: V1, V1_1 and "
                 "V1_1_Feat_SyntheticPoRep; NI-PoRep 15-19 is not supported)");
}

PorepId porep_id(const SealProof& proof) {
  PorepId out{};
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(proof.id >> (8 * i));
  // bytes 8..15: nonce 0 (u64 LE); bytes 16..31: zero.
  return out;
}

ReplicaId replica_id(const Bytes32& prover_id, uint64_t sector_number, const Bytes32& ticket,
                     const Bytes32& comm_d, const PorepId& porep_id) {
  uint8_t msg[136];
  std::memcpy(msg, prover_id.data(), 32);
  for (int i = 0; i < 8; ++i) msg[32 + i] = static_cast<uint8_t>(sector_number >> (56 - 8 * i));
  std::memcpy(msg + 40, ticket.data(), 32);
  std::memcpy(msg + 72, comm_d.data(), 32);
  std::memcpy(msg + 104, porep_id.data(), 32);
  ReplicaId out = sha256::digest(msg);
  out[31] &= 0x3f;
  return out;
}

Bytes32 prover_id_from_actor(uint64_t actor_id) {
  Bytes32 out{};
  size_t i = 0;
  do {
    uint8_t b = actor_id & 0x7f;
    actor_id >>= 7;
    if (actor_id != 0) b |= 0x80;
    out[i++] = b;
  } while (actor_id != 0);
  return out;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Bytes32 bytes32_from_hex(std::string_view hex, std::string_view what) {
  if (hex.size() != 64) {
    throw SdrError(std::string(what) + ": expected 64 hex digits (32 bytes), got " +
                   std::to_string(hex.size()) + " characters");
  }
  Bytes32 out{};
  for (size_t i = 0; i < 32; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      throw SdrError(std::string(what) + ": invalid hex digit at position " +
                     std::to_string(hi < 0 ? 2 * i : 2 * i + 1) + " (use 0-9, a-f)");
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace sealhost::proofs::sdr
