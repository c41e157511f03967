// CIDs for Filecoin commitments (go-fil-commcid, FRC-0069): piece CID v1 (baga6ea4sea...),
// piece CID v2 (bafkzcib...), sealed CID (bagboea4b5abc...), in multibase base32 lower case.
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::proofs::cid {

using Commitment = std::array<uint8_t, 32>;

inline constexpr uint64_t kCodecRaw = 0x55;
inline constexpr uint64_t kCodecFilCommitmentUnsealed = 0xf101;
inline constexpr uint64_t kCodecFilCommitmentSealed = 0xf102;
inline constexpr uint64_t kHashSha2_256 = 0x12;
inline constexpr uint64_t kHashSha2_256Trunc254Padded = 0x1012;
inline constexpr uint64_t kHashFr32Sha256Trunc254PadBinTree = 0x1011;
inline constexpr uint64_t kHashPoseidonBls12381A2Fc1 = 0xb401;

// Malformed text, wrong codec or hash, bad lengths. The message names the CID and the problem.
class CidError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A decoded CIDv1.
struct Cid {
  uint64_t codec = 0;
  uint64_t hash_code = 0;
  std::vector<uint8_t> digest;
};

// RFC 4648 base32, lower case, no padding (the multibase 'b' alphabet).
std::string base32_encode(std::span<const uint8_t> bytes);
// Accepts lower-case text only; throws CidError naming the offending character.
std::vector<uint8_t> base32_decode(std::string_view text);

void append_uvarint(std::vector<uint8_t>& out, uint64_t v);
// Reads an unsigned varint at `pos` (advanced past it); throws CidError when truncated, longer
// than 9 bytes, or not minimally encoded.
uint64_t read_uvarint(std::span<const uint8_t> bytes, size_t& pos);

// Generic CIDv1 <-> string ('b' + base32).
std::string encode_cid(uint64_t codec, uint64_t hash_code, std::span<const uint8_t> digest);
Cid parse_cid(std::string_view text);

std::string piece_cid_v1(const Commitment& comm_p);
std::string sealed_cid(const Commitment& comm_r);
// Throws CidError when `text` is not a piece CID v1 / sealed CID.
Commitment parse_piece_cid_v1(std::string_view text);
Commitment parse_sealed_cid(std::string_view text);

// FRC-0069 piece CID v2: the commitment plus the tree height and the unpadded zero padding that
// follows `payload_size` bytes of data in the tree.
struct PieceCidV2 {
  Commitment root{};
  uint8_t height = 0;         // levels above the 32-byte leaves
  uint64_t padding = 0;       // unpadded bytes of zero padding
  uint64_t payload_size = 0;  // (32 << height) / 128 * 127 - padding
};

// Height and padding derived from the payload size (spec fr32-commp.md §6).
PieceCidV2 piece_cid_v2_info(const Commitment& root, uint64_t payload_size);
std::string piece_cid_v2(const Commitment& root, uint64_t payload_size);
std::string encode_piece_cid_v2(const PieceCidV2& info);
// Rejects padding that leaves the data in less than half the tree, as go-fil-commcid does.
PieceCidV2 parse_piece_cid_v2(std::string_view text);

}  // namespace sealhost::proofs::cid
