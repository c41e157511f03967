#include "proofs/challenges/challenges.hpp"

#include <algorithm>
#include <cstring>
#include <span>

#include "proofs/challenges/stream.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::challenges {
namespace {

constexpr uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;

// BLS12-381 scalar field modulus r, little-endian u64 limbs.
constexpr std::array<uint64_t, 4> kModulus = {0xffffffff00000001ULL, 0x53bda402fffe5bfeULL,
                                              0x3339d80809a1d805ULL, 0x73eda753299d7d48ULL};

constexpr char kGenerationKey[] = "filecoin.io|PoRep|1|Synthetic|1|Generation";
constexpr char kSelectionKey[] = "filecoin.io|PoRep|1|Synthetic|1|Selection";
constexpr std::array<uint8_t, 12> kSynthNonce = {'s', 'y', 'n', 't', 'h', '-',
                                                 'p', 'o', 'r', 'e', 'p', 0};

uint64_t load_u64le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void store_u64le(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// (LE256(bytes) mod (nodes - 1)) + 1 — rust-fil-proofs bigint_to_challenge.
uint64_t nonzero_challenge(const uint8_t* bytes32, uint64_t nodes) {
  // nodes < 2^32, so the remainder fits in 32 bits and 32-bit digits never overflow a u64.
  const uint64_t m = nodes - 1;
  uint64_t r = 0;
  for (int digit = 7; digit >= 0; --digit) {
    const uint8_t* p = bytes32 + 4 * digit;
    const uint64_t d =
        uint64_t{p[0]} | uint64_t{p[1]} << 8 | uint64_t{p[2]} << 16 | uint64_t{p[3]} << 24;
    r = ((r << 32) | d) % m;
  }
  return r + 1;
}

void check_porep_nodes(uint64_t nodes, const char* what) {
  if (nodes < 2 || nodes >= (uint64_t{1} << 32)) {
    throw ChallengeError(std::string(what) + ": sector of " + std::to_string(nodes) +
                         " nodes is out of range (PoRep challenges need 2 <= nodes < 2^32)");
  }
}

void check_canonical(const Bytes32& v, const char* what) {
  if (!is_canonical_fr(v)) {
    throw ChallengeError(std::string(what) +
                         " is not a canonical BLS12-381 scalar (pass the 32-byte little-endian "
                         "encoding of a value below the field modulus)");
  }
}

std::span<const uint8_t> ascii(const char* s) {
  return {reinterpret_cast<const uint8_t*>(s), std::strlen(s)};
}

}  // namespace

// ---- constants ----

const std::vector<PoRepSizeParams>& porep_size_table() {
  static const std::vector<PoRepSizeParams> kTable = {
      {2 * kKiB, 2 * kKiB / 32, 2, 1, 2},      {4 * kKiB, 4 * kKiB / 32, 2, 1, 2},
      {16 * kKiB, 16 * kKiB / 32, 2, 1, 2},    {32 * kKiB, 32 * kKiB / 32, 2, 1, 2},
      {8 * kMiB, 8 * kMiB / 32, 2, 1, 2},      {16 * kMiB, 16 * kMiB / 32, 2, 1, 2},
      {512 * kMiB, 512 * kMiB / 32, 2, 1, 2},  {1 * kGiB, 1 * kGiB / 32, 2, 1, 2},
      {32 * kGiB, 32 * kGiB / 32, 11, 10, 18}, {64 * kGiB, 64 * kGiB / 32, 11, 10, 18},
  };
  return kTable;
}

const PoRepSizeParams& porep_size_params(uint64_t sector_bytes) {
  for (const auto& p : porep_size_table()) {
    if (p.sector_bytes == sector_bytes) return p;
  }
  throw ChallengeError("sector size " + std::to_string(sector_bytes) +
                       " bytes: unsupported (use 2KiB, 4KiB, 16KiB, 32KiB, 8MiB, 16MiB, 512MiB, "
                       "1GiB, 32GiB or 64GiB)");
}

// ---- interactive ----

std::vector<uint64_t> interactive_porep_challenges(const Bytes32& replica_id, const Bytes32& seed,
                                                   uint64_t nodes, uint32_t partition,
                                                   uint32_t per_partition) {
  check_porep_nodes(nodes, "interactive porep challenges");
  const uint64_t first = uint64_t{per_partition} * partition;
  if (first + per_partition > (uint64_t{1} << 32)) {
    throw ChallengeError("interactive porep challenges: partition " + std::to_string(partition) +
                         " x " + std::to_string(per_partition) +
                         " challenges overflows the u32 challenge counter");
  }
  std::vector<uint64_t> out;
  out.reserve(per_partition);
  uint8_t preimage[68];
  std::memcpy(preimage, replica_id.data(), 32);
  std::memcpy(preimage + 32, seed.data(), 32);
  for (uint32_t i = 0; i < per_partition; ++i) {
    const auto j = static_cast<uint32_t>(first + i);
    for (int b = 0; b < 4; ++b) preimage[64 + b] = static_cast<uint8_t>(j >> (8 * b));
    const auto h = sha256::digest(preimage);
    out.push_back(nonzero_challenge(h.data(), nodes));
  }
  return out;
}

// ---- synthetic ----

SyntheticChallenges::SyntheticChallenges(const Bytes32& replica_id, const Bytes32& comm_r,
                                         uint64_t nodes, std::optional<uint64_t> count)
    : replica_id_(replica_id), nodes_(nodes) {
  check_porep_nodes(nodes, "synthetic challenges");
  check_canonical(replica_id, "synthetic challenges: replica_id");
  check_canonical(comm_r, "synthetic challenges: comm_r");
  count_ = count.value_or(std::min(nodes, kDefaultSyntheticChallenges));
  if (count_ == 0 || count_ >= (uint64_t{1} << 32) / 32) {
    throw ChallengeError("synthetic challenges: count " + std::to_string(count_) +
                         " out of range (1 .. 2^27; the default is min(nodes, 2^18))");
  }
  generation_key_ = blake2b_256_keyed(ascii(kGenerationKey), replica_id, comm_r);
}

void SyntheticChallenges::generate(uint64_t first, size_t n, uint64_t* out) const {
  if (first > count_ || n > count_ - first) {
    throw ChallengeError("synthetic challenges: entries [" + std::to_string(first) + ", +" +
                         std::to_string(n) + ") out of range (the set has " +
                         std::to_string(count_) + ")");
  }
  const ChaCha20 stream(generation_key_, kSynthNonce);
  constexpr size_t kBatch = 64;
  uint8_t buf[kBatch * 32];
  while (n > 0) {
    const size_t take = std::min(n, kBatch);
    stream.keystream(first * 32, buf, take * 32);
    for (size_t i = 0; i < take; ++i) out[i] = nonzero_challenge(buf + 32 * i, nodes_);
    out += take;
    first += take;
    n -= take;
  }
}

uint64_t SyntheticChallenges::at(uint64_t i) const {
  uint64_t v = 0;
  generate(i, 1, &v);
  return v;
}

std::vector<uint64_t> SyntheticChallenges::all() const {
  std::vector<uint64_t> out(count_);
  generate(0, out.size(), out.data());
  return out;
}

std::vector<uint64_t> SyntheticChallenges::selected_indexes(const Bytes32& seed, uint32_t partition,
                                                            uint32_t per_partition) const {
  const uint64_t first = uint64_t{per_partition} * partition;
  // Upstream seeks the selection stream with a u32 byte offset.
  if ((first + per_partition) * 4 > (uint64_t{1} << 32)) {
    throw ChallengeError("synthetic challenge selection: partition " + std::to_string(partition) +
                         " x " + std::to_string(per_partition) + " challenges is out of range");
  }
  const auto key = blake2b_256_keyed(ascii(kSelectionKey), replica_id_, seed);
  const ChaCha20 stream(key, kSynthNonce);
  std::vector<uint8_t> bytes(size_t{per_partition} * 4);
  stream.keystream(first * 4, bytes.data(), bytes.size());
  std::vector<uint64_t> out(per_partition);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint32_t v = uint32_t{bytes[4 * i]} | uint32_t{bytes[4 * i + 1]} << 8 |
                       uint32_t{bytes[4 * i + 2]} << 16 | uint32_t{bytes[4 * i + 3]} << 24;
    out[i] = v % count_;
  }
  return out;
}

std::vector<uint64_t> SyntheticChallenges::porep_challenges(const Bytes32& seed, uint32_t partition,
                                                            uint32_t per_partition) const {
  auto idx = selected_indexes(seed, partition, per_partition);
  for (auto& v : idx) v = at(v);
  return idx;
}

// ---- PoSt ----

size_t window_post_sector_count(uint64_t sector_bytes) {
  (void)porep_size_params(sector_bytes);  // rejects unsupported sizes
  if (sector_bytes == 32 * kGiB) return 2349;
  if (sector_bytes == 64 * kGiB) return 2300;
  return 2;
}

size_t PoStConfig::circuit_sector_count() const {
  return type == PoStType::kWinning ? challenge_count / sector_count : sector_count;
}

size_t PoStConfig::circuit_challenge_count() const {
  return type == PoStType::kWinning ? sector_count : challenge_count;
}

PoStConfig PoStConfig::window(uint64_t sector_bytes, PoStApiVersion api_version) {
  PoStConfig c{PoStType::kWindow, sector_bytes, kWindowPoStChallengeCount,
               window_post_sector_count(sector_bytes), api_version};
  return c;
}

PoStConfig PoStConfig::winning(uint64_t sector_bytes) {
  (void)porep_size_params(sector_bytes);
  return PoStConfig{PoStType::kWinning, sector_bytes, kWinningPoStChallengeCount,
                    kWinningPoStSectorCount, PoStApiVersion::kV1_0_0};
}

namespace {
constexpr uint64_t kPoStSizes[5] = {2 * kKiB, 8 * kMiB, 512 * kMiB, 32 * kGiB, 64 * kGiB};
}

PoStConfig PoStConfig::for_registered_proof(int64_t id) {
  if (id < 0 || id > 14) {
    throw ChallengeError("registered post proof " + std::to_string(id) +
                         ": unknown (use 0-4 winning, 5-9 window V1, 10-14 window V1_1)");
  }
  const uint64_t bytes = kPoStSizes[id % 5];
  if (id < 5) return winning(bytes);
  return window(bytes, id < 10 ? PoStApiVersion::kV1_0_0 : PoStApiVersion::kV1_2_0);
}

int64_t registered_post_proof(const PoStConfig& config) {
  for (int64_t i = 0; i < 5; ++i) {
    if (kPoStSizes[i] != config.sector_bytes) continue;
    if (config.type == PoStType::kWinning) return i;
    return config.api_version == PoStApiVersion::kV1_0_0 ? 5 + i : 10 + i;
  }
  throw ChallengeError("post config: sector size " + std::to_string(config.sector_bytes) +
                       " has no registered post proof (only 2KiB, 8MiB, 512MiB, 32GiB, 64GiB)");
}

void PoStConfig::validate() const {
  (void)porep_size_params(sector_bytes);
  if (challenge_count == 0 || sector_count == 0) {
    throw ChallengeError("post config: challenge_count and sector_count must be positive");
  }
  if (type == PoStType::kWinning && challenge_count % sector_count != 0) {
    throw ChallengeError("post config: winning sector_count " + std::to_string(sector_count) +
                         " must divide challenge_count " + std::to_string(challenge_count));
  }
}

size_t window_post_partitions(const PoStConfig& config, size_t sector_total) {
  if (config.sector_count == 0) {
    throw ChallengeError("post config: sector_count is 0 (use PoStConfig::window)");
  }
  return std::max<size_t>(1, (sector_total + config.sector_count - 1) / config.sector_count);
}

bool is_canonical_fr(const Bytes32& value) {
  for (int limb = 3; limb >= 0; --limb) {
    const uint64_t v = load_u64le(value.data() + 8 * limb);
    if (v < kModulus[static_cast<size_t>(limb)]) return true;
    if (v > kModulus[static_cast<size_t>(limb)]) return false;
  }
  return false;  // equal to r
}

void check_post_randomness(const Bytes32& randomness) {
  if (!is_canonical_fr(randomness)) {
    throw ChallengeError(
        "post randomness is not a canonical field element (mask the chain randomness first: "
        "randomness[31] &= 0x3f)");
  }
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

uint64_t post_challenge_index(PoStApiVersion api_version, uint64_t sector_index,
                              size_t challenge_count, size_t n) {
  if (api_version == PoStApiVersion::kV1_2_0) return n;
  return sector_index * challenge_count + n;
}

uint64_t post_leaf_challenge(const Bytes32& randomness, uint64_t sector_number,
                             uint64_t challenge_index, uint64_t nodes) {
  if (nodes == 0) throw ChallengeError("post leaf challenge: sector of 0 nodes");
  uint8_t preimage[48];
  std::memcpy(preimage, randomness.data(), 32);
  store_u64le(preimage + 32, sector_number);
  store_u64le(preimage + 40, challenge_index);
  const auto h = sha256::digest(preimage);
  return load_u64le(h.data()) % nodes;
}

std::vector<uint64_t> post_sector_challenges(const PoStConfig& config, const Bytes32& randomness,
                                             uint64_t sector_number, uint64_t sector_index) {
  config.validate();
  check_post_randomness(randomness);
  std::vector<uint64_t> out;
  out.reserve(config.challenge_count);
  for (size_t n = 0; n < config.challenge_count; ++n) {
    const uint64_t ci =
        post_challenge_index(config.api_version, sector_index, config.challenge_count, n);
    out.push_back(post_leaf_challenge(randomness, sector_number, ci, config.nodes()));
  }
  return out;
}

std::vector<uint64_t> winning_post_sector_challenges(const Bytes32& randomness,
                                                     const Bytes32& prover_id,
                                                     uint64_t sector_set_len, size_t count) {
  if (sector_set_len == 0) {
    throw ChallengeError("winning post sector selection: the eligible sector set is empty");
  }
  check_post_randomness(randomness);
  std::vector<uint64_t> out;
  out.reserve(count);
  uint8_t preimage[72];
  std::memcpy(preimage, prover_id.data(), 32);
  std::memcpy(preimage + 32, randomness.data(), 32);
  for (size_t n = 0; n < count; ++n) {
    store_u64le(preimage + 64, n);
    const auto h = sha256::digest(preimage);
    out.push_back(load_u64le(h.data()) % sector_set_len);
  }
  return out;
}

}  // namespace sealhost::proofs::challenges
