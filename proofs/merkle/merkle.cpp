#include "proofs/merkle/merkle.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

#include "proofs/field/fr.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::merkle {
namespace {

// Rows smaller than this are hashed on the calling thread: spawning costs more than it saves.
constexpr size_t kMinParentsPerThread = 256;

void hash_row_serial(NodeHash hash, size_t arity, const uint8_t* children, uint8_t* out,
                     size_t parents) {
  if (hash == NodeHash::kSha254) {
    sha256::sha254_nodes(children, out, parents);
    return;
  }
  try {
    poseidon::hash_batch_bytes(arity, children, out, parents);
  } catch (const field::FieldError& e) {
    throw MerkleError(std::string("poseidon tree row: ") + e.what() +
                      " (tree leaves must be canonical BLS12-381 scalars)");
  }
}

}  // namespace

void check_geometry(size_t leaves, size_t arity) {
  if (arity != 2 && arity != 8) {
    throw MerkleError("merkle tree: arity " + std::to_string(arity) + " unsupported (use 2 or 8)");
  }
  size_t n = leaves;
  while (n > 1 && n % arity == 0) n /= arity;
  if (leaves < arity || n != 1) {
    throw MerkleError("merkle tree: " + std::to_string(leaves) +
                      " leaves is not a power of arity " + std::to_string(arity) +
                      " (pad the data to a supported sector size)");
  }
}

size_t row_count(size_t leaves, size_t arity) {
  check_geometry(leaves, arity);
  size_t rows = 1;
  for (size_t n = leaves; n > 1; n /= arity) ++rows;
  return rows;
}

size_t row_start(size_t leaves, size_t arity, size_t row) {
  check_geometry(leaves, arity);
  size_t start = 0;
  size_t width = leaves;
  for (size_t r = 0; r < row; ++r) {
    start += width;
    width /= arity;
  }
  return start;
}

size_t tree_len(size_t leaves, size_t arity) {
  return row_start(leaves, arity, row_count(leaves, arity) - 1) + 1;
}

size_t default_rows_to_discard(size_t leaves, size_t arity, size_t configured) {
  const size_t rows = row_count(leaves, arity);
  if (rows <= 2) return 0;
  return std::min(rows - 2, configured);
}

size_t level_cache_len(size_t leaves, size_t arity, size_t rows_to_discard) {
  const size_t rows = row_count(leaves, arity);
  if (rows_to_discard + 1 >= rows) {
    throw MerkleError("merkle level cache: rows_to_discard " + std::to_string(rows_to_discard) +
                      " leaves no cached row in a tree of " + std::to_string(rows) +
                      " rows (use at most rows - 2)");
  }
  return tree_len(leaves, arity) - row_start(leaves, arity, rows_to_discard + 1);
}

void hash_row(NodeHash hash, size_t arity, const uint8_t* children, uint8_t* out, size_t parents,
              unsigned threads) {
  if (hash == NodeHash::kSha254 && arity != 2) {
    throw MerkleError("sha254 tree: arity " + std::to_string(arity) + " unsupported (binary only)");
  }
  const size_t workers =
      std::max<size_t>(1, std::min<size_t>(threads, parents / kMinParentsPerThread));
  if (workers <= 1) {
    hash_row_serial(hash, arity, children, out, parents);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(workers);
  const size_t per = (parents + workers - 1) / workers;
  for (size_t w = 0; w < workers; ++w) {
    const size_t begin = w * per;
    const size_t count = std::min(per, parents - std::min(parents, begin));
    if (count == 0) break;
    pool.emplace_back([&, w, begin, count] {
      try {
        hash_row_serial(hash, arity, children + begin * arity * 32, out + begin * 32, count);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

Node hash_children(NodeHash hash, const std::vector<Node>& children) {
  std::vector<uint8_t> buf(children.size() * 32);
  for (size_t i = 0; i < children.size(); ++i) {
    std::memcpy(&buf[32 * i], children[i].data(), 32);
  }
  Node out{};
  hash_row(hash, children.size(), buf.data(), out.data(), 1);
  return out;
}

uint64_t InclusionProof::path_index() const {
  uint64_t index = 0;
  uint64_t scale = 1;
  for (const auto& level : path) {
    index += level.position * scale;
    scale *= level.arity();
  }
  return index;
}

bool verify(const InclusionProof& proof, NodeHash hash) {
  Node cur = proof.leaf;
  for (const auto& level : proof.path) {
    const size_t arity = level.arity();
    if (level.position >= arity) return false;
    if (hash == NodeHash::kSha254 && arity != 2) return false;
    if (hash == NodeHash::kPoseidon && !poseidon::is_supported_arity(arity)) return false;
    std::vector<Node> children;
    children.reserve(arity);
    for (size_t i = 0, s = 0; i < arity; ++i) {
      children.push_back(i == level.position ? cur : level.siblings[s++]);
    }
    try {
      cur = hash_children(hash, children);
    } catch (const MerkleError&) {
      return false;  // a non-canonical sibling cannot be part of a valid Poseidon path
    }
  }
  return cur == proof.root;
}

bool verify(const InclusionProof& proof, NodeHash hash, const Node& expected_root,
            uint64_t expected_index) {
  return proof.root == expected_root && proof.path_index() == expected_index && verify(proof, hash);
}

}  // namespace sealhost::proofs::merkle
