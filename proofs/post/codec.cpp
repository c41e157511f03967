#include "proofs/post/codec.hpp"

#include <cstring>
#include <string>

namespace sealhost::proofs::post {
namespace {

using merkle::PathLevel;
using merkle::TreeShape;

constexpr char kMagic[8] = {'S', 'H', 'P', 'O', 'S', 'T', 'V', 'P'};
constexpr uint64_t kMaxReasonBytes = 1 << 16;

class Writer {
 public:
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void raw(const uint8_t* p, size_t n) { out_.insert(out_.end(), p, p + n); }
  void node(const Node& n) { raw(n.data(), n.size()); }
  std::vector<uint8_t> take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

 private:
  std::vector<uint8_t> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  size_t offset() const { return pos_; }
  size_t remaining() const { return b_.size() - pos_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError("post vanilla proof: " + what + " at byte " + std::to_string(pos_) + " of " +
                      std::to_string(b_.size()) + " (not a proof of this PoSt type, or truncated)");
  }
  void need(size_t n, const char* what) const {
    if (remaining() < n) fail(std::string("truncated ") + what);
  }
  uint32_t u32(const char* what) {
    need(4, what);
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | b_[pos_ + static_cast<size_t>(i)];
    pos_ += 4;
    return v;
  }
  uint64_t u64(const char* what) {
    need(8, what);
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | b_[pos_ + static_cast<size_t>(i)];
    pos_ += 8;
    return v;
  }
  Node node(const char* what) {
    need(32, what);
    Node n{};
    std::memcpy(n.data(), b_.data() + pos_, 32);
    pos_ += 32;
    return n;
  }
  std::span<const uint8_t> bytes(size_t n, const char* what) {
    need(n, what);
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  // A Vec length whose elements take at least min_elem bytes each.
  uint64_t count(size_t min_elem, const char* what) {
    const uint64_t n = u64(what);
    if (min_elem != 0 && n > remaining() / min_elem) {
      fail(std::string(what) + " count " + std::to_string(n) + " exceeds the remaining bytes");
    }
    return n;
  }
  void done() const {
    if (remaining() != 0) fail(std::to_string(remaining()) + " trailing bytes");
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

size_t base_levels(const TreeShape& s) {
  return merkle::row_count(s.base_leaves, s.base_arity) - 1;
}

uint32_t variant_of(const TreeShape& s) {
  if (s.top_arity != 0) return 2;
  if (s.sub_arity != 0) return 1;
  return 0;
}

void write_path(Writer& w, std::span<const PathLevel> levels) {
  w.u64(levels.size());
  for (const auto& l : levels) {
    w.u64(l.siblings.size());
    for (const auto& n : l.siblings) w.node(n);
    w.u64(l.position);
  }
}

void read_path(Reader& r, size_t arity, size_t levels, std::vector<PathLevel>& out) {
  const uint64_t n = r.count(16, "merkle path");
  if (n != levels) {
    r.fail("merkle path of " + std::to_string(n) + " levels where the sector size has " +
           std::to_string(levels));
  }
  for (uint64_t i = 0; i < n; ++i) {
    PathLevel l;
    const uint64_t hashes = r.count(32, "path element hashes");
    if (hashes != arity - 1) {
      r.fail("path element with " + std::to_string(hashes) + " hashes where arity " +
             std::to_string(arity) + " needs " + std::to_string(arity - 1));
    }
    l.siblings.reserve(hashes);
    for (uint64_t h = 0; h < hashes; ++h) l.siblings.push_back(r.node("path hash"));
    const uint64_t index = r.u64("path element index");
    if (index >= arity) {
      r.fail("path element index " + std::to_string(index) + " >= arity " + std::to_string(arity));
    }
    l.position = static_cast<uint32_t>(index);
    out.push_back(std::move(l));
  }
}

void write_merkle_proof(Writer& w, const TreeShape& s, const InclusionProof& p) {
  const size_t base = base_levels(s);
  const size_t expected = base + (s.sub_arity != 0 ? 1 : 0) + (s.top_arity != 0 ? 1 : 0);
  if (p.path.size() != expected) {
    throw PoStError("post vanilla proof encode: inclusion path of " +
                    std::to_string(p.path.size()) + " levels, the sector size needs " +
                    std::to_string(expected));
  }
  const std::span<const PathLevel> levels(p.path);
  const uint32_t variant = variant_of(s);
  w.u32(variant);
  if (variant == 0) {
    w.node(p.root);
    w.node(p.leaf);
    write_path(w, levels);
    return;
  }
  write_path(w, levels.first(base));
  write_path(w, levels.subspan(base, 1));
  if (variant == 2) write_path(w, levels.subspan(base + 1, 1));
  w.node(p.root);
  w.node(p.leaf);
}

InclusionProof read_merkle_proof(Reader& r, const TreeShape& s) {
  InclusionProof p;
  const uint32_t variant = r.u32("merkle proof variant");
  if (variant != variant_of(s)) {
    r.fail("merkle proof variant " + std::to_string(variant) + " where the sector size uses " +
           std::to_string(variant_of(s)) + " (0 single, 1 sub, 2 top)");
  }
  const size_t base = base_levels(s);
  if (variant == 0) {
    p.root = r.node("root");
    p.leaf = r.node("leaf");
    read_path(r, s.base_arity, base, p.path);
    return p;
  }
  read_path(r, s.base_arity, base, p.path);
  read_path(r, s.sub_arity, 1, p.path);
  if (variant == 2) read_path(r, s.top_arity, 1, p.path);
  p.root = r.node("root");
  p.leaf = r.node("leaf");
  return p;
}

void write_partition(Writer& w, const TreeShape& s, const PartitionProof& proof) {
  w.u64(proof.sectors.size());
  for (const auto& sp : proof.sectors) {
    w.u64(sp.inclusion_proofs.size());
    for (const auto& p : sp.inclusion_proofs) write_merkle_proof(w, s, p);
    w.node(sp.comm_c);
    w.node(sp.comm_r_last);
  }
}

PartitionProof read_partition(Reader& r, const TreeShape& s) {
  PartitionProof proof;
  const uint64_t sectors = r.count(8 + 64, "sector proofs");
  proof.sectors.reserve(sectors);
  for (uint64_t i = 0; i < sectors; ++i) {
    SectorProof sp;
    const uint64_t n = r.count(4 + 64 + 8, "inclusion proofs");
    sp.inclusion_proofs.reserve(n);
    for (uint64_t k = 0; k < n; ++k) sp.inclusion_proofs.push_back(read_merkle_proof(r, s));
    sp.comm_c = r.node("comm_c");
    sp.comm_r_last = r.node("comm_r_last");
    proof.sectors.push_back(std::move(sp));
  }
  return proof;
}

void write_sector_vanilla(Writer& w, const TreeShape& s, const SectorVanillaProof& p) {
  w.u64(p.sector_id);
  w.node(p.comm_r);
  write_partition(w, s, p.vanilla_proof);
}

SectorVanillaProof read_sector_vanilla(Reader& r, const TreeShape& s) {
  SectorVanillaProof p;
  p.sector_id = r.u64("sector_id");
  p.comm_r = r.node("comm_r");
  p.vanilla_proof = read_partition(r, s);
  return p;
}

TreeShape shape_of(const PoStConfig& config) {
  config.validate();
  return TreeShape::for_sector(config.sector_bytes);
}

}  // namespace

std::vector<uint8_t> encode_sector_vanilla_proof(const PoStConfig& config,
                                                 const SectorVanillaProof& proof) {
  Writer w;
  write_sector_vanilla(w, shape_of(config), proof);
  return w.take();
}

SectorVanillaProof decode_sector_vanilla_proof(const PoStConfig& config,
                                               std::span<const uint8_t> bytes) {
  Reader r(bytes);
  auto p = read_sector_vanilla(r, shape_of(config));
  r.done();
  return p;
}

std::vector<uint8_t> encode_partition_proof(const PoStConfig& config, const PartitionProof& proof) {
  Writer w;
  write_partition(w, shape_of(config), proof);
  return w.take();
}

PartitionProof decode_partition_proof(const PoStConfig& config, std::span<const uint8_t> bytes) {
  Reader r(bytes);
  auto p = read_partition(r, shape_of(config));
  r.done();
  return p;
}

std::vector<uint8_t> encode_bundle(const VanillaBundle& bundle) {
  const PoStConfig config = PoStConfig::for_registered_proof(bundle.registered_post_proof);
  const TreeShape shape = shape_of(config);
  Writer w;
  w.raw(reinterpret_cast<const uint8_t*>(kMagic), sizeof kMagic);
  w.u32(kBundleVersion);
  w.u32(0);
  w.u64(static_cast<uint64_t>(bundle.registered_post_proof));
  w.raw(bundle.randomness.data(), bundle.randomness.size());
  w.u64(bundle.proofs.size());
  for (const auto& p : bundle.proofs) {
    Writer one;
    write_sector_vanilla(one, shape, p);
    const auto bytes = one.take();
    w.u64(bytes.size());
    w.raw(bytes.data(), bytes.size());
  }
  w.u64(bundle.faults.size());
  for (const auto& f : bundle.faults) {
    const std::string reason = f.reason.substr(0, kMaxReasonBytes);
    w.u64(f.sector_id);
    w.u64(reason.size());
    w.raw(reinterpret_cast<const uint8_t*>(reason.data()), reason.size());
  }
  return w.take();
}

VanillaBundle decode_bundle(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  const auto magic = r.bytes(sizeof kMagic, "bundle magic");
  if (std::memcmp(magic.data(), kMagic, sizeof kMagic) != 0) {
    throw FormatError("post vanilla bundle: bad magic (not a sealhost PoSt bundle)");
  }
  const uint32_t version = r.u32("bundle version");
  if (version != kBundleVersion) {
    throw FormatError("post vanilla bundle: version " + std::to_string(version) +
                      " is not supported (this build reads version " +
                      std::to_string(kBundleVersion) + "; upgrade sealhost)");
  }
  if (r.u32("bundle flags") != 0) r.fail("unknown bundle flags");
  VanillaBundle b;
  b.registered_post_proof = static_cast<int64_t>(r.u64("registered post proof"));
  PoStConfig config;
  try {
    config = PoStConfig::for_registered_proof(b.registered_post_proof);
  } catch (const std::exception& e) {
    throw FormatError(std::string("post vanilla bundle: ") + e.what());
  }
  const TreeShape shape = shape_of(config);
  const auto rnd = r.bytes(32, "randomness");
  std::memcpy(b.randomness.data(), rnd.data(), 32);
  const uint64_t n = r.count(8, "sector vanilla proofs");
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t len = r.count(1, "sector vanilla proof length");
    Reader one(r.bytes(len, "sector vanilla proof"));
    b.proofs.push_back(read_sector_vanilla(one, shape));
    one.done();
  }
  const uint64_t m = r.count(16, "faults");
  for (uint64_t i = 0; i < m; ++i) {
    Fault f;
    f.sector_id = r.u64("fault sector id");
    const uint64_t len = r.count(1, "fault reason length");
    if (len > kMaxReasonBytes) r.fail("fault reason longer than 64 KiB");
    const auto s = r.bytes(len, "fault reason");
    f.reason.assign(reinterpret_cast<const char*>(s.data()), s.size());
    b.faults.push_back(std::move(f));
  }
  r.done();
  return b;
}

}  // namespace sealhost::proofs::post
