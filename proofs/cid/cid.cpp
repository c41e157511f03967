#include "proofs/cid/cid.hpp"

#include <bit>
#include <cstring>

namespace sealhost::proofs::cid {
namespace {

constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

std::string quoted(std::string_view text) {
  constexpr size_t kMax = 100;
  std::string s = "\"";
  s += text.substr(0, kMax);
  if (text.size() > kMax) s += "...";
  return s + "\"";
}

std::string hex_code(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

Commitment parse_commitment(std::string_view text, uint64_t codec, uint64_t hash,
                            const char* kind) {
  const Cid c = parse_cid(text);
  if (c.codec != codec || c.hash_code != hash) {
    throw CidError("cid " + quoted(text) + ": codec " + hex_code(c.codec) + " / multihash " +
                   hex_code(c.hash_code) + " is not a " + kind + " (expected " + hex_code(codec) +
                   " / " + hex_code(hash) + ")");
  }
  if (c.digest.size() != 32) {
    throw CidError("cid " + quoted(text) + ": commitment is " + std::to_string(c.digest.size()) +
                   " bytes, expected 32");
  }
  Commitment out;
  std::memcpy(out.data(), c.digest.data(), 32);
  return out;
}

// Tree height for fr32-padded data of `fr32_bytes` bytes: levels above 32-byte leaves.
uint8_t height_for_fr32_size(uint64_t fr32_bytes) {
  if (fr32_bytes <= 32) return 0;
  return static_cast<uint8_t>(std::bit_width(fr32_bytes - 1) - 5);
}

// Unpadded bytes of a tree of 2^height leaves (go-fil-commcid rounds tiny trees this way).
uint64_t unpadded_tree_bytes(uint8_t height) {
  const uint64_t padded = uint64_t{32} << height;
  return height < 2 ? padded * 127 / 128 : padded / 128 * 127;
}

}  // namespace

std::string base32_encode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::vector<uint8_t> base32_decode(std::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    uint32_t v;
    if (c >= 'a' && c <= 'z') {
      v = static_cast<uint32_t>(c - 'a');
    } else if (c >= '2' && c <= '7') {
      v = static_cast<uint32_t>(c - '2' + 26);
    } else {
      throw CidError("base32 text " + quoted(text) + ": character '" + std::string(1, c) +
                     "' at offset " + std::to_string(i) +
                     " is not in the lower-case base32 alphabet a-z2-7");
    }
    buffer = (buffer << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  // Leftover bits are padding and must be zero for a canonical encoding.
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) {
    throw CidError("base32 text " + quoted(text) + ": trailing bits are not a canonical encoding");
  }
  return out;
}

void append_uvarint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

uint64_t read_uvarint(std::span<const uint8_t> bytes, size_t& pos) {
  uint64_t v = 0;
  for (unsigned i = 0; i < 9; ++i) {
    if (pos >= bytes.size()) throw CidError("varint is truncated (the CID is cut short)");
    const uint8_t b = bytes[pos++];
    v |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) throw CidError("varint is not minimally encoded");
      return v;
    }
  }
  throw CidError("varint is longer than 9 bytes");
}

std::string encode_cid(uint64_t codec, uint64_t hash_code, std::span<const uint8_t> digest) {
  std::vector<uint8_t> bytes;
  append_uvarint(bytes, 1);
  append_uvarint(bytes, codec);
  append_uvarint(bytes, hash_code);
  append_uvarint(bytes, digest.size());
  bytes.insert(bytes.end(), digest.begin(), digest.end());
  return "b" + base32_encode(bytes);
}

Cid parse_cid(std::string_view text) {
  if (text.empty()) throw CidError("cid is empty (pass a CID string such as baga6ea4sea...)");
  if (text[0] != 'b') {
    throw CidError("cid " + quoted(text) + ": multibase prefix '" + std::string(1, text[0]) +
                   "' is not supported (only 'b', base32 lower case)");
  }
  std::vector<uint8_t> bytes;
  try {
    bytes = base32_decode(text.substr(1));
  } catch (const CidError& e) {
    throw CidError("cid " + quoted(text) + ": " + e.what());
  }
  try {
    size_t pos = 0;
    const uint64_t version = read_uvarint(bytes, pos);
    if (version != 1) {
      throw CidError("version " + std::to_string(version) + " is not supported (only CIDv1)");
    }
    Cid c;
    c.codec = read_uvarint(bytes, pos);
    c.hash_code = read_uvarint(bytes, pos);
    const uint64_t len = read_uvarint(bytes, pos);
    if (len != bytes.size() - pos) {
      throw CidError("multihash says " + std::to_string(len) + " digest bytes but " +
                     std::to_string(bytes.size() - pos) + " follow");
    }
    c.digest.assign(bytes.begin() + static_cast<std::ptrdiff_t>(pos), bytes.end());
    return c;
  } catch (const CidError& e) {
    if (std::string_view(e.what()).starts_with("cid ")) throw;
    throw CidError("cid " + quoted(text) + ": " + e.what());
  }
}

std::string piece_cid_v1(const Commitment& comm_p) {
  return encode_cid(kCodecFilCommitmentUnsealed, kHashSha2_256Trunc254Padded, comm_p);
}

std::string sealed_cid(const Commitment& comm_r) {
  return encode_cid(kCodecFilCommitmentSealed, kHashPoseidonBls12381A2Fc1, comm_r);
}

Commitment parse_piece_cid_v1(std::string_view text) {
  return parse_commitment(text, kCodecFilCommitmentUnsealed, kHashSha2_256Trunc254Padded,
                          "piece CID v1 (fil-commitment-unsealed / sha2-256-trunc254-padded)");
}

Commitment parse_sealed_cid(std::string_view text) {
  return parse_commitment(text, kCodecFilCommitmentSealed, kHashPoseidonBls12381A2Fc1,
                          "sealed CID (fil-commitment-sealed / poseidon-bls12_381-a2-fc1)");
}

PieceCidV2 piece_cid_v2_info(const Commitment& root, uint64_t payload_size) {
  // fr32 size rounded up to whole bytes: ceil(payload * 128 / 127), without overflow.
  const uint64_t fr32 = payload_size / 127 * 128 + (payload_size % 127 * 128 + 126) / 127;
  PieceCidV2 info;
  info.root = root;
  info.height = height_for_fr32_size(fr32);
  info.payload_size = payload_size;
  info.padding = unpadded_tree_bytes(info.height) - payload_size;
  return info;
}

std::string encode_piece_cid_v2(const PieceCidV2& info) {
  if (info.height > 57) {
    throw CidError("piece CID v2: tree height " + std::to_string(info.height) +
                   " is too large (at most 57)");
  }
  const uint64_t tree = unpadded_tree_bytes(info.height);
  if (info.padding >= tree / 2) {
    throw CidError("piece CID v2: padding of " + std::to_string(info.padding) +
                   " bytes is not below half the unpadded tree size " + std::to_string(tree) +
                   " (payload too small for height " + std::to_string(info.height) + ")");
  }
  std::vector<uint8_t> digest;
  append_uvarint(digest, info.padding);
  digest.push_back(info.height);
  digest.insert(digest.end(), info.root.begin(), info.root.end());
  return encode_cid(kCodecRaw, kHashFr32Sha256Trunc254PadBinTree, digest);
}

std::string piece_cid_v2(const Commitment& root, uint64_t payload_size) {
  return encode_piece_cid_v2(piece_cid_v2_info(root, payload_size));
}

PieceCidV2 parse_piece_cid_v2(std::string_view text) {
  const Cid c = parse_cid(text);
  if (c.codec != kCodecRaw || c.hash_code != kHashFr32Sha256Trunc254PadBinTree) {
    throw CidError("cid " + quoted(text) + ": codec " + hex_code(c.codec) + " / multihash " +
                   hex_code(c.hash_code) +
                   " is not a piece CID v2 (expected raw 0x55 / "
                   "fr32-sha256-trunc254-padbintree 0x1011)");
  }
  size_t pos = 0;
  PieceCidV2 info;
  try {
    info.padding = read_uvarint(c.digest, pos);
  } catch (const CidError& e) {
    throw CidError("cid " + quoted(text) + ": padding " + e.what());
  }
  if (c.digest.size() != pos + 33) {
    throw CidError("cid " + quoted(text) + ": piece CID v2 digest is " +
                   std::to_string(c.digest.size()) + " bytes, expected " +
                   std::to_string(pos + 33));
  }
  info.height = c.digest[pos];
  if (info.height > 57) {
    throw CidError("cid " + quoted(text) + ": tree height " + std::to_string(info.height) +
                   " is too large");
  }
  std::memcpy(info.root.data(), c.digest.data() + pos + 1, 32);
  const uint64_t tree = unpadded_tree_bytes(info.height);
  if (info.padding >= tree / 2) {
    throw CidError("cid " + quoted(text) + ": padding " + std::to_string(info.padding) +
                   " is not below half the unpadded tree size " + std::to_string(tree));
  }
  info.payload_size = tree - info.padding;
  return info;
}

}  // namespace sealhost::proofs::cid
