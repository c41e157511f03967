#include "host/cli/proofs_commands.hpp"

#include "host/cli/progress.hpp"
#include "proofs/cid/cid.hpp"
#include "proofs/commp/commp.hpp"
#include "proofs/field/fr.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sdr/graph.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sdr/parent_cache.hpp"
#include "proofs/sdr/seal_proof.hpp"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace po = boost::program_options;

namespace sealhost::cli {
namespace {

std::string hex(std::span<const uint8_t> b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += kHex[x >> 4];
    s += kHex[x & 15];
  }
  return s;
}

bool help(const std::vector<std::string>& args, const char* usage, po::options_description& desc,
          po::variables_map& vm, const po::positional_options_description& pos) {
  desc.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: sealhost " << usage << "\n\n" << desc << "\n";
    return true;
  }
  po::notify(vm);
  return false;
}

// Parses a field element given as decimal, 0x-prefixed big-endian hex, or 64 hex digits of the
// 32-byte little-endian encoding (what `debug poseidon` prints).
proofs::field::Fr parse_element(const std::string& text) {
  bool le_hex =
      text.size() == 64 && text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (le_hex) {
    uint8_t bytes[32];
    for (size_t i = 0; i < 32; ++i)
      bytes[i] = static_cast<uint8_t>(std::stoul(text.substr(2 * i, 2), nullptr, 16));
    auto fr = proofs::field::Fr::from_bytes(bytes);
    if (!fr)
      throw std::runtime_error("element " + text + ": not below the BLS12-381 scalar modulus");
    return *fr;
  }
  auto fr = proofs::field::Fr::from_string(text);
  if (!fr) {
    throw std::runtime_error("element " + text +
                             ": expected a decimal integer, 0x-prefixed hex, or 64 hex digits "
                             "(32-byte little-endian), below the BLS12-381 scalar modulus");
  }
  return *fr;
}

}  // namespace

int cmd_commp(const std::vector<std::string>& args, const std::optional<std::string>&) {
  po::options_description desc(
      "sealhost commp: piece commitment (CommP) of a file, no daemon needed");
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  bool json = false;
  std::string file;
  desc.add_options()("threads", po::value(&threads), "hashing threads (default: all cores)")(
      "json", po::bool_switch(&json), "print JSON")("file", po::value(&file)->required(),
                                                    "the payload");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (help(args, "commp [--threads N] [--json] FILE", desc, vm, pos)) return 0;
  if (threads == 0 || threads > 1024) throw std::runtime_error("--threads must be in [1, 1024]");

  ProgressBar bar("commp");
  auto t0 = std::chrono::steady_clock::now();
  auto r =
      proofs::commp::commp_file(file, threads, [&](uint64_t d, uint64_t t) { bar.update(d, t); });
  bar.finish();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string v1 = proofs::cid::piece_cid_v1(r.comm_p);
  std::string v2 = proofs::cid::piece_cid_v2(r.comm_p, r.payload_size);
  if (json) {
    std::cout << nlohmann::json{{"piece_cid", v1},
                                {"piece_cid_v2", v2},
                                {"payload_size", r.payload_size},
                                {"padded_size", r.padded_piece_size},
                                {"comm_p", hex(r.comm_p)}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << "Piece CID:     " << v1 << "\n"
            << "Piece CID v2:  " << v2 << "\n"
            << "Payload size:  " << r.payload_size << " bytes\n"
            << "Padded size:   " << r.padded_piece_size << " bytes ("
            << sdk::units::format_size(r.padded_piece_size) << ")\n"
            << "CommP:         " << hex(r.comm_p) << "\n";
  std::cerr << "computed in " << secs << " s with " << threads << " thread(s)\n";
  return 0;
}

int cmd_debug_poseidon(const std::vector<std::string>& args, const std::optional<std::string>&) {
  po::options_description desc(
      "sealhost debug poseidon: neptune Poseidon of field elements (to check a backend)");
  size_t arity = 0;
  std::string tag = "merkle";
  std::vector<std::string> elements;
  desc.add_options()("arity", po::value(&arity)->required(), "2, 4, 8, 11, 16, 24 or 36")(
      "tag", po::value(&tag), "merkle (default) or constlen")("element", po::value(&elements),
                                                              "decimal, 0x-hex, or 32-byte LE hex");
  po::positional_options_description pos;
  pos.add("element", -1);
  po::variables_map vm;
  if (help(args, "debug poseidon --arity N [--tag merkle|constlen] ELEMENT...", desc, vm, pos))
    return 0;
  if (!proofs::poseidon::is_supported_arity(arity)) {
    throw std::runtime_error("--arity " + std::to_string(arity) +
                             ": use 2, 4, 8, 11, 16, 24 or 36");
  }
  std::vector<proofs::field::Fr> in;
  for (const auto& e : elements) in.push_back(parse_element(e));
  proofs::field::Fr out;
  if (tag == "merkle") {
    if (in.size() != arity) {
      throw std::runtime_error("--tag merkle needs exactly " + std::to_string(arity) +
                               " elements, got " + std::to_string(in.size()));
    }
    out = proofs::poseidon::hash(in);
  } else if (tag == "constlen") {
    if (in.empty() || in.size() > arity) {
      throw std::runtime_error("--tag constlen needs 1.." + std::to_string(arity) +
                               " elements, got " + std::to_string(in.size()));
    }
    out = proofs::poseidon::hash_constant_length(arity, in);
  } else {
    throw std::runtime_error("--tag " + tag + ": use merkle or constlen");
  }
  std::cout << hex(out.to_bytes()) << "\n";
  return 0;
}

namespace {

// Where Lotus and the Rust prover keep parent caches: $FIL_PROOFS_PARENT_CACHE or
// /var/tmp/filecoin-parents.
std::string default_parent_cache_dir() {
  const char* env = std::getenv("FIL_PROOFS_PARENT_CACHE");
  return env && *env ? env : "/var/tmp/filecoin-parents";
}

const proofs::sdr::SealProof& proof_arg(const std::string& name) {
  try {
    return proofs::sdr::lookup_seal_proof(name);
  } catch (const proofs::sdr::SdrError& e) {
    throw std::runtime_error(std::string("--proof: ") + e.what());
  }
}

}  // namespace

int cmd_debug_parent_cache(const std::vector<std::string>& args,
                           const std::optional<std::string>&) {
  po::options_description desc(
      "sealhost debug parent-cache: the SDR parent cache file of a proof (created when missing)");
  std::string proof_name, dir = default_parent_cache_dir();
  bool digest = false, verify = false;
  desc.add_options()("proof", po::value(&proof_name)->required(),
                     "registered proof, e.g. StackedDrg512MiBV1_1 or 512MiB-v1.1")(
      "dir", po::value(&dir),
      "cache directory (default $FIL_PROOFS_PARENT_CACHE or "
      "/var/tmp/filecoin-parents)")("digest", po::bool_switch(&digest),
                                    "also print the file's SHA-256")(
      "verify", po::bool_switch(&verify),
      "check the SHA-256 against the rust-fil-proofs manifest; regenerate on mismatch");
  po::positional_options_description pos;
  po::variables_map vm;
  if (help(args, "debug parent-cache --proof NAME [--digest] [--verify] [--dir DIR]", desc, vm,
           pos)) {
    return 0;
  }
  const auto& proof = proof_arg(proof_name);
  const proofs::sdr::Graph graph(proof);
  proofs::sdr::ParentCacheOptions o;
  o.verify = verify;
  o.warn = [](std::string_view m) { std::cerr << "warning: " << m << "\n"; };
  const auto t0 = std::chrono::steady_clock::now();
  const auto cache = proofs::sdr::ParentCache::open_or_create(graph, dir, o);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (cache.generated()) {
    std::cerr << "generated " << sdk::units::format_size(proof.nodes * 56) << " in " << secs
              << " s\n";
  }
  std::cout << cache.path().string() << "\n";
  if (digest) {
    const std::string got = cache.sha256_hex();
    std::cout << got << "\n";
    const auto want = proofs::sdr::known_parent_cache_digest(cache.path().filename().string());
    if (!want) {
      std::cerr << "not in the rust-fil-proofs manifest (test-size or synthetic graph)\n";
    } else if (*want == got) {
      std::cerr << "matches the rust-fil-proofs manifest\n";
    } else {
      std::cerr << "DOES NOT MATCH the rust-fil-proofs manifest (" << *want
                << "): run again with --verify to regenerate\n";
      return 1;
    }
  }
  return 0;
}

int cmd_debug_labels(const std::vector<std::string>& args, const std::optional<std::string>&) {
  po::options_description desc(
      "sealhost debug labels: SDR labels of a small graph (to check a labelling implementation)");
  uint64_t nodes = 0, node = 0;
  uint32_t layers = 0, layer = 0;
  std::string replica_hex, porep_hex, api = "V1_1_0";
  desc.add_options()("nodes", po::value(&nodes)->required(), "graph size in nodes (>= 2)")(
      "layers", po::value(&layers)->required(), "number of layers (>= 1)")(
      "replica-id", po::value(&replica_hex)->required(), "32 bytes, hex")(
      "porep-id", po::value(&porep_hex)->required(), "32 bytes, hex")(
      "api", po::value(&api), "V1_0_0 (legacy V1 proofs) or V1_1_0 (default)")(
      "node", po::value(&node), "node to print (with --layer; default the last node)")(
      "layer", po::value(&layer), "1-based layer to print (default the last layer)");
  po::positional_options_description pos;
  po::variables_map vm;
  if (help(args,
           "debug labels --nodes N --layers L --replica-id HEX --porep-id HEX "
           "[--api V1_0_0|V1_1_0] [--node I --layer J]",
           desc, vm, pos)) {
    return 0;
  }
  constexpr uint64_t kMaxNodes = uint64_t{1} << 24;
  if (nodes < 2 || nodes > kMaxNodes) {
    throw std::runtime_error("--nodes " + std::to_string(nodes) + ": use 2 .. " +
                             std::to_string(kMaxNodes) + " (a debug tool labels in memory)");
  }
  if (layers < 1 || layers > 15) {
    throw std::runtime_error("--layers " + std::to_string(layers) + ": use 1 .. 15");
  }
  if (vm.count("node") != vm.count("layer")) {
    throw std::runtime_error("--node and --layer go together (or leave both out)");
  }
  if (!vm.count("layer")) {
    layer = layers;
    node = nodes - 1;
  }
  if (layer < 1 || layer > layers || node >= nodes) {
    throw std::runtime_error("--node " + std::to_string(node) + " --layer " +
                             std::to_string(layer) + ": outside the graph (nodes 0.." +
                             std::to_string(nodes - 1) + ", layers 1.." + std::to_string(layers) +
                             ")");
  }
  proofs::sdr::ApiVersion v;
  if (api == "V1_0_0" || api == "1.0.0") {
    v = proofs::sdr::ApiVersion::V1_0_0;
  } else if (api == "V1_1_0" || api == "1.1.0") {
    v = proofs::sdr::ApiVersion::V1_1_0;
  } else if (api == "V1_2_0" || api == "1.2.0") {
    v = proofs::sdr::ApiVersion::V1_2_0;
  } else {
    throw std::runtime_error("--api " + api + ": use V1_0_0, V1_1_0 or V1_2_0");
  }
  const auto replica_id = proofs::sdr::bytes32_from_hex(replica_hex, "--replica-id");
  const auto porep_id = proofs::sdr::bytes32_from_hex(porep_hex, "--porep-id");
  const proofs::sdr::Graph graph(nodes, porep_id, v);
  const auto labels = proofs::sdr::label_in_memory(graph, replica_id, layers);
  std::cout << hex(labels.label_bytes(layer, node)) << "\n";
  return 0;
}

}  // namespace sealhost::cli
