#include "plugins/stage/c2-vanilla/c2_vanilla.hpp"

#include "proofs/c1/c1.hpp"
#include "proofs/c1/c1_json.hpp"
#include "proofs/sdr/graph.hpp"
#include "proofs/sdr/seal_proof.hpp"
#include "proofs/sha256/sha256.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace sealhost::stage_c2_vanilla {
namespace {

namespace fs = std::filesystem;
namespace c1 = proofs::c1;
namespace sdr = proofs::sdr;
using stage::Json;

constexpr const char* kKind = "sealhost-vanilla-porep";
constexpr int kBundleVersion = 1;
constexpr const char* kWarning =
    "vanilla proofs, not a SNARK: accepted by the sealhost devnet only, never by mainnet";

const stage::RecordReader kIn("c2-vanilla input");
const stage::RecordReader kOut("c2-vanilla output");

std::string read_file(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw sdk::not_found(std::string(what) + " " + path + ": cannot open (run c1 first)");
  std::string s{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  if (f.bad()) throw sdk::io_error(std::string(what) + " " + path + ": read error");
  return s;
}

std::string sha256_hex(std::string_view bytes) {
  const auto d = proofs::sha256::digest(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  return stage::hex(d.data(), d.size());
}

struct Checked {
  const sdr::SealProof* proof = nullptr;
  c1::C1Json c1;
  c1::Verdict verdict;
};

// One parse: the document names its proof, which gives the shapes to parse it with.
Checked check_phase1(const std::string& text, const std::string& where) {
  Checked c;
  try {
    c.c1 = c1::c1_output_from_json(text);
    c.proof = &sdr::lookup_seal_proof(c.c1.registered_proof);
  } catch (const c1::C1Error& e) {
    throw sdk::invalid_argument(where + ": " + e.what());
  } catch (const sdr::SdrError& e) {
    throw sdk::invalid_argument(where + ": " + e.what());
  }
  c.verdict = c1::verify_commit1(c1::PoRepParams::for_seal_proof(*c.proof), sdr::Graph(*c.proof),
                                 c.c1.output);
  return c;
}

}  // namespace

Input parse_input(std::string_view json) {
  const Json j = kIn.parse(json);
  kIn.only_keys(j, {"v", "sector", "phase1_output_path"}, "record");
  return {kIn.sector(j), kIn.text(j, "phase1_output_path", "record")};
}

std::string format_input(const Input& in) {
  return Json{{"v", stage::kRecordVersion},
              {"sector", stage::sector_json(in.sector)},
              {"phase1_output_path", in.phase1_output_path}}
      .dump();
}

std::string format_output(const Output& o) {
  return Json{{"v", stage::kRecordVersion},
              {"sector", stage::sector_json(o.sector)},
              {"kind", "vanilla"},
              {"mainnet", false},
              {"registered_proof", o.registered_proof},
              {"bundle_path", o.bundle_path},
              {"bundle_sha256", o.bundle_sha256},
              {"challenges", o.challenges},
              {"partitions", o.partitions},
              {"comm_d", stage::hex(o.comm_d)},
              {"comm_r", stage::hex(o.comm_r)},
              {"seconds", o.seconds}}
      .dump();
}

Output parse_output(std::string_view json) {
  const Json j = kOut.parse(json);
  kOut.only_keys(j,
                 {"v", "sector", "kind", "mainnet", "registered_proof", "bundle_path",
                  "bundle_sha256", "challenges", "partitions", "comm_d", "comm_r", "seconds"},
                 "record");
  if (kOut.text(j, "kind", "record") != "vanilla" || kOut.boolean(j, "mainnet", "record")) {
    kOut.bad("record", "kind must be \"vanilla\" with \"mainnet\": false");
  }
  Output o;
  o.sector = kOut.sector(j);
  o.registered_proof = kOut.text(j, "registered_proof", "record");
  o.bundle_path = kOut.text(j, "bundle_path", "record");
  o.bundle_sha256 = kOut.text(j, "bundle_sha256", "record");
  o.challenges = kOut.u64(j, "challenges", "record");
  o.partitions = kOut.u64(j, "partitions", "record");
  o.comm_d = kOut.hex32(j, "comm_d", "record");
  o.comm_r = kOut.hex32(j, "comm_r", "record");
  const Json& s = kOut.member(j, "seconds", "record");
  if (!s.is_number()) kOut.bad("record.seconds", "expected a number");
  o.seconds = s.get<double>();
  return o;
}

std::string C2VanillaStage::run(std::string_view input_json, const sdk::Job& job) {
  return format_output(prove(parse_input(input_json), job));
}

Output C2VanillaStage::prove(const Input& in, const sdk::Job& job) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string where = "c1 output " + in.phase1_output_path;
  const std::string text = read_file(in.phase1_output_path, "c1 output");
  job.progress(0, 2, "verify");
  const Checked c = check_phase1(text, where);
  if (c.proof->sector_size != in.sector.size) {
    throw sdk::invalid_argument(where + " is for " + std::string(c.proof->name) +
                                ", not a sector of " + std::to_string(in.sector.size) +
                                " bytes (pass this sector's C1 output)");
  }
  if (!c.verdict) {
    throw sdk::data_loss(where + ": the vanilla proofs do not verify (" + c.verdict.reason +
                         "); redo c1 from intact sector files");
  }
  job.check_cancel("c2-vanilla");
  job.progress(1, 2, "bundle");

  const auto& inputs = c.c1.output.inputs;
  Json bundle = Json::object();
  bundle["kind"] = kKind;
  bundle["version"] = kBundleVersion;
  bundle["warning"] = kWarning;
  bundle["sector"] = stage::sector_json(in.sector);
  bundle["registered_proof"] = std::string(c.proof->name);
  bundle["comm_d"] = stage::hex(inputs.comm_d);
  bundle["comm_r"] = stage::hex(inputs.comm_r);
  bundle["seed"] = stage::hex(inputs.seed);
  // "phase1_output" last, as the C1 output's own text (it parsed above): no second DOM of the
  // proofs just to print them again.
  std::string bytes = bundle.dump();
  bytes.pop_back();
  bytes += ",\"phase1_output\":";
  bytes += text;
  bytes += '}';
  const std::string path = in.phase1_output_path + ".vanilla-bundle.json";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << bytes;
    if (!f.flush()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw sdk::io_error("c2-vanilla: cannot write " + tmp + " (check free space)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw sdk::io_error("c2-vanilla: cannot rename " + tmp + ": " + ec.message());

  Output o;
  o.sector = in.sector;
  o.registered_proof = std::string(c.proof->name);
  o.bundle_path = path;
  o.bundle_sha256 = sha256_hex(bytes);
  o.partitions = c.c1.output.partitions.size();
  for (const auto& p : c.c1.output.partitions) o.challenges += p.size();
  o.comm_d = inputs.comm_d;
  o.comm_r = inputs.comm_r;
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  job.progress(2, 2, "bundle");
  log_.info("sector " + std::to_string(in.sector.number) + ": vanilla bundle " + path + " (" +
            std::to_string(o.challenges) + " challenges verified; devnet only, not a SNARK)");
  return o;
}

BundleVerdict verify_bundle(const std::string& path) {
  BundleVerdict v;
  try {
    const Json b = Json::parse(read_file(path, "bundle"), nullptr, false);
    if (b.is_discarded() || !b.is_object()) {
      v.reason = "not JSON";
      return v;
    }
    if (b.value("kind", "") != kKind || b.value("version", 0) != kBundleVersion) {
      v.reason = "not a sealhost vanilla PoRep bundle of version 1";
      return v;
    }
    const stage::RecordReader r("bundle " + path);
    v.sector = r.sector(b);
    v.registered_proof = r.text(b, "registered_proof", "bundle");
    v.comm_d = r.hex32(b, "comm_d", "bundle");
    v.comm_r = r.hex32(b, "comm_r", "bundle");
    const auto seed = r.hex32(b, "seed", "bundle");
    const Checked c = check_phase1(r.member(b, "phase1_output", "bundle").dump(), "bundle");
    const auto& in = c.c1.output.inputs;
    if (std::string(c.proof->name) != v.registered_proof || c.proof->sector_size != v.sector.size) {
      v.reason = "registered proof or sector size differs from the embedded C1 output";
    } else if (in.comm_d != v.comm_d || in.comm_r != v.comm_r || in.seed != seed) {
      v.reason = "comm_d, comm_r or seed differs from the embedded C1 output";
    } else if (!c.verdict) {
      v.reason = "vanilla proofs do not verify: " + c.verdict.reason;
    } else {
      v.valid = true;
    }
  } catch (const std::exception& e) {
    v.valid = false;
    v.reason = e.what();
  }
  return v;
}

}  // namespace sealhost::stage_c2_vanilla
