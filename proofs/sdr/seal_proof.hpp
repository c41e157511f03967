// Registered seal proofs (go-state-types abi.RegisteredSealProof) and the per-sector identifiers
// derived from them: porep_id, prover_id and replica_id (spec sdr.md §1-§3).
//
// Aliases accepted by lookup_seal_proof() (case-insensitive, besides the full Go names such as
// "StackedDrg32GiBV1_1"): "<size>-v1" (V1, legacy ApiVersion 1.0.0), "<size>-v1.1" (V1_1) and
// "<size>-synth" (V1_1_Feat_SyntheticPoRep), with <size> one of 2KiB, 8MiB, 512MiB, 32GiB, 64GiB;
// e.g. "32GiB-v1.1", "32gib-synth". NI-PoRep (ids 15-19) is not supported.
// All functions are pure and thread-safe; the table is static.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "proofs/sdr/sdr_error.hpp"

namespace sealhost::proofs::sdr {

using Bytes32 = std::array<uint8_t, 32>;
using PorepId = Bytes32;
using ReplicaId = Bytes32;

// storage-proofs-core ApiVersion. 1.1.0 and 1.2.0 behave identically for graphs and labels;
// 1.0.0 (legacy V1) puts the DRG predecessor last and truncates expander parents to 32 bits.
enum class ApiVersion { V1_0_0, V1_1_0, V1_2_0 };

// "1.0.0", "1.1.0" or "1.2.0".
const char* api_version_name(ApiVersion v);

struct SealProof {
  std::string_view name;   // go-state-types spelling, e.g. "StackedDrg32GiBV1_1"
  std::string_view alias;  // short alias, e.g. "32GiB-v1.1"
  uint64_t id = 0;         // abi.RegisteredSealProof value (0..14)
  uint64_t sector_size = 0;
  uint64_t nodes = 0;  // sector_size / 32
  uint32_t layers = 0;
  ApiVersion api_version = ApiVersion::V1_1_0;
  bool synthetic = false;
};

// The 15 supported proofs, ordered by id.
std::span<const SealProof> all_seal_proofs();

// By Go name or alias, case-insensitive. Throws SdrError listing the valid names.
const SealProof& lookup_seal_proof(std::string_view name_or_alias);

// By registered id. Throws SdrError for unknown ids (including NI-PoRep 15-19).
const SealProof& seal_proof_by_id(uint64_t id);

// u64_le(id) || u64_le(nonce 0) || 16 zero bytes.
PorepId porep_id(const SealProof& proof);

// SHA256(prover_id || u64_be(sector_number) || ticket || comm_d || porep_id) with the top two
// bits of byte 31 cleared (a canonical BLS12-381 scalar, little-endian).
ReplicaId replica_id(const Bytes32& prover_id, uint64_t sector_number, const Bytes32& ticket,
                     const Bytes32& comm_d, const PorepId& porep_id);

// The prover id filecoin-ffi derives from an ID address f0<actor_id>: the address payload
// uvarint(actor_id) (LEB128), zero-padded to 32 bytes. Actor 1000 -> e8 07 00 ... 00.
Bytes32 prover_id_from_actor(uint64_t actor_id);

// Lower-case hex of arbitrary bytes, and the inverse for exactly 32 bytes (throws SdrError naming
// `what` on bad input).
std::string to_hex(std::span<const uint8_t> bytes);
Bytes32 bytes32_from_hex(std::string_view hex, std::string_view what);

}  // namespace sealhost::proofs::sdr
