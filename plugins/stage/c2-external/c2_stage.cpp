#include "plugins/stage/c2-external/c2_stage.hpp"

#include "plugins/stage/c2-external/transport.hpp"
#include "proofs/challenges/challenges.hpp"
#include "proofs/sdr/seal_proof.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

namespace sealhost::stage_c2 {
namespace fs = std::filesystem;

namespace {

using stage::Json;
using Clock = std::chrono::steady_clock;

constexpr size_t kOutputLimit = 64ull << 20;  // a proof is at most a few KiB; logs go elsewhere
constexpr size_t kMessageTail = 2000;

const stage::RecordReader kIn("c2 input");
const stage::RecordReader kOut("c2 output");

std::string sector_name(const stage::SectorId& s) {
  return "s-t0" + std::to_string(s.miner) + "-" + std::to_string(s.number);
}

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string tail(std::string_view s, size_t n = kMessageTail) {
  std::string t = trim(s);
  if (t.size() > n) t = "…" + t.substr(t.size() - n);
  return t;
}

// Validates the C1 output as one JSON value without building it, and picks up the top-level
// "registered_proof" string.
struct C1Scan : nlohmann::json_sax<nlohmann::json> {
  int depth = 0;
  bool object_root = false;
  bool expect_proof = false;
  std::optional<std::string> registered_proof;
  std::string error;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& s) override {
    if (expect_proof) registered_proof = s;
    return value();
  }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    if (depth == 0) object_root = true;
    expect_proof = false;
    ++depth;
    return true;
  }
  bool key(string_t& k) override {
    expect_proof = depth == 1 && k == "registered_proof";
    return true;
  }
  bool end_object() override {
    --depth;
    return true;
  }
  bool start_array(std::size_t) override {
    expect_proof = false;
    ++depth;
    return true;
  }
  bool end_array() override {
    --depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }

 private:
  bool value() {
    expect_proof = false;
    return true;
  }
};

std::vector<uint8_t> read_c1(const C2Input& in, const std::string& what) {
  std::error_code ec;
  const auto size = fs::file_size(in.phase1_output_path, ec);
  if (ec) {
    throw sdk::not_found(what + ": C1 output " + in.phase1_output_path + ": " + ec.message() +
                         " (run c1 first)");
  }
  if (size == 0) {
    throw sdk::failed_precondition(what + ": C1 output " + in.phase1_output_path +
                                   " is empty (rerun c1)");
  }
  std::ifstream f(in.phase1_output_path, std::ios::binary);
  std::vector<uint8_t> bytes(size);
  if (!f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    throw sdk::io_error(what + ": cannot read C1 output " + in.phase1_output_path);
  }
  C1Scan scan;
  const bool ok = nlohmann::json::sax_parse(bytes.begin(), bytes.end(), &scan);
  if (!ok || !scan.object_root) {
    throw sdk::failed_precondition(what + ": C1 output " + in.phase1_output_path +
                                   " is not a SealCommitPhase1Output JSON object" +
                                   (scan.error.empty() ? std::string() : " (" + scan.error + ")") +
                                   " (pass the file c1 wrote, unchanged)");
  }
  if (scan.registered_proof) {
    try {
      const auto& p = proofs::sdr::lookup_seal_proof(*scan.registered_proof);
      if (p.sector_size != in.sector.size) {
        throw sdk::failed_precondition(
            what + ": C1 output " + in.phase1_output_path + " is for " + *scan.registered_proof +
            " (" + std::to_string(p.sector_size) + "-byte sectors), but sector.size is " +
            std::to_string(in.sector.size) + " (pass the C1 output of this sector)");
      }
    } catch (const proofs::sdr::SdrError&) {
      // A proof type this build does not know (e.g. NI-PoRep): the prover decides.
    }
  }
  return bytes;
}

// Replaces every {name} in `arg`.
std::string substitute(std::string arg,
                       const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [k, v] : vars) {
    for (size_t at = arg.find(k); at != std::string::npos; at = arg.find(k, at + v.size())) {
      arg.replace(at, k.size(), v);
    }
  }
  return arg;
}

// A private directory for one call's files, removed with them at scope exit.
class WorkDir {
 public:
  WorkDir(const std::string& parent, const std::string& name) {
    std::error_code ec;
    const fs::path base = parent.empty() ? fs::temp_directory_path(ec) : fs::path(parent);
    fs::create_directories(base, ec);
    std::string tmpl = (base / ("sealhost-c2-" + name + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw sdk::io_error("c2: cannot create a work directory in " + base.string() + ": " +
                          std::strerror(errno) + " (fix [stages.c2] work_dir)");
    }
    path_ = tmpl;
  }
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_private(const fs::path& p, const std::string& data) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw sdk::io_error("c2: cannot create " + p.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      throw sdk::io_error("c2: cannot write " + p.string() + ": " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

// Polled every ~100 ms while the prover works: reports the milliseconds spent out of the timeout
// (once a second, phase "waiting for <who>") and answers whether the job was cancelled.
CancelFn waiting(const sdk::Job& job, const std::string& who, std::chrono::milliseconds timeout) {
  const auto t0 = Clock::now();
  auto last = std::make_shared<Clock::time_point>(t0);
  return [job, t0, last, total = static_cast<uint64_t>(timeout.count()),
          phase = "waiting for " + who]() {
    const auto now = Clock::now();
    if (now - *last >= std::chrono::seconds(1)) {
      *last = now;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - t0).count();
      job.progress(static_cast<uint64_t>(ms), total, phase);
    }
    return job.cancelled();
  };
}

}  // namespace

// ---------------------------------------------------------------------------------- encoding

std::string base64_encode(std::span<const uint8_t> b) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    const uint32_t v = uint32_t{b[i]} << 16 | uint32_t{b[i + 1]} << 8 | b[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const size_t rest = b.size() - i; rest > 0) {
    const uint32_t v = uint32_t{b[i]} << 16 | (rest == 2 ? uint32_t{b[i + 1]} << 8 : 0);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string clean;
  for (char c : s) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') clean += c;
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  for (size_t i = 0; i < clean.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = clean[i + k];
      if (c == '=' && i + 4 == clean.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = val(c)) < 0) {
        return std::nullopt;
      }
    }
    const uint32_t x = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | v[3];
    out.push_back(static_cast<uint8_t>(x >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(x >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(x));
  }
  return out;
}

std::optional<std::vector<uint8_t>> hex_decode(std::string_view s) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  if (s.size() % 2 != 0) return std::nullopt;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<uint8_t> out(s.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nib(s[2 * i]), lo = nib(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string commit2_input_json(uint64_t sector_number, std::span<const uint8_t> phase1_out,
                               uint64_t sector_size) {
  // Go's json.Marshal of lotus-bench's Commit2In{SectorNum int64; Phase1Out []byte;
  // SectorSize uint64}: fields in declaration order, no spaces, []byte as padded std base64.
  return "{\"SectorNum\":" + std::to_string(sector_number) + ",\"Phase1Out\":\"" +
         base64_encode(phase1_out) + "\",\"SectorSize\":" + std::to_string(sector_size) + "}";
}

std::vector<uint8_t> parse_proof(std::string_view output, std::string_view format,
                                 const std::string& source) {
  auto none = [&](const std::string& why) -> std::vector<uint8_t> {
    throw sdk::failed_precondition(source + ": " + why);
  };
  auto lotus_line = [&]() -> std::optional<std::string> {
    std::optional<std::string> found;
    size_t at = 0;
    while (at <= output.size()) {
      const size_t nl = output.find('\n', at);
      const std::string line =
          trim(output.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
      if (line.starts_with("proof:")) found = trim(std::string_view(line).substr(6));
      if (nl == std::string_view::npos) break;
      at = nl + 1;
    }
    return found;
  };
  std::vector<uint8_t> proof;
  if (format == "raw") {
    proof.assign(output.begin(), output.end());
  } else if (format == "hex") {
    auto p = hex_decode(trim(output));
    if (!p) return none("output is not hex (check proof_format)");
    proof = std::move(*p);
  } else if (format == "base64") {
    auto p = base64_decode(trim(output));
    if (!p) return none("output is not base64 (check proof_format)");
    proof = std::move(*p);
  } else if (format == "lotus-bench") {
    auto line = lotus_line();
    if (!line) return none("no \"proof: <hex>\" line in the output (check proof_format)");
    auto p = hex_decode(*line);
    if (!p) return none("the \"proof:\" line is not hex");
    proof = std::move(*p);
  } else if (format == "auto") {
    if (auto line = lotus_line()) {
      auto p = hex_decode(*line);
      if (!p) return none("the \"proof:\" line is not hex");
      proof = std::move(*p);
    } else if (auto p = hex_decode(trim(output)); p && !trim(output).empty()) {
      proof = std::move(*p);
    } else {
      proof.assign(output.begin(), output.end());
    }
  } else {
    throw sdk::invalid_argument("option proof_format: unknown \"" + std::string(format) + "\"");
  }
  if (proof.empty()) return none("the prover returned an empty proof");
  return proof;
}

size_t expected_proof_bytes(uint64_t sector_size) {
  try {
    return kGroth16ProofBytes * proofs::challenges::porep_size_params(sector_size).partitions;
  } catch (const std::exception& e) {
    throw sdk::invalid_argument(std::string("c2 input: record.sector.size: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------- records

C2Input parse_input(std::string_view json) {
  const Json j = kIn.parse(json);
  kIn.only_keys(j, {"v", "sector", "phase1_output_path"}, "record");
  C2Input in;
  in.sector = kIn.sector(j);
  in.phase1_output_path = kIn.text(j, "phase1_output_path", "record");
  if (in.sector.number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    kIn.bad("record.sector.number", "larger than a Go int64 (lotus-bench SectorNum)");
  }
  (void)expected_proof_bytes(in.sector.size);
  return in;
}

std::string format_input(const C2Input& in) {
  Json j = Json::object();
  j["v"] = stage::kRecordVersion;
  j["sector"] = stage::sector_json(in.sector);
  j["phase1_output_path"] = in.phase1_output_path;
  return j.dump();
}

std::string format_output(const C2Output& out) {
  Json j = Json::object();
  j["v"] = stage::kRecordVersion;
  j["sector"] = stage::sector_json(out.sector);
  j["proof"] = stage::hex(out.proof.data(), out.proof.size());
  j["proof_bytes"] = out.proof.size();
  j["prover"] = out.prover;
  j["input_bytes"] = out.input_bytes;
  j["prover_seconds"] = out.prover_seconds;
  j["seconds"] = out.seconds;
  return j.dump();
}

C2Output parse_output(std::string_view json) {
  const Json j = kOut.parse(json);
  kOut.only_keys(
      j,
      {"v", "sector", "proof", "proof_bytes", "prover", "input_bytes", "prover_seconds", "seconds"},
      "record");
  C2Output o;
  o.sector = kOut.sector(j);
  auto p = hex_decode(kOut.text(j, "proof", "record"));
  if (!p) kOut.bad("record.proof", "expected hex");
  o.proof = std::move(*p);
  if (kOut.u64(j, "proof_bytes", "record") != o.proof.size()) {
    kOut.bad("record.proof_bytes", "does not match the length of proof");
  }
  o.prover = kOut.text(j, "prover", "record");
  o.input_bytes = kOut.u64(j, "input_bytes", "record");
  for (auto [key, dst] :
       {std::pair{"prover_seconds", &o.prover_seconds}, std::pair{"seconds", &o.seconds}}) {
    const Json& v = kOut.member(j, key, "record");
    if (!v.is_number()) kOut.bad(std::string("record.") + key, "expected a number");
    *dst = v.get<double>();
  }
  return o;
}

// ---------------------------------------------------------------------------------- stage

C2ExternalStage::C2ExternalStage(const sdk::Context& ctx)
    : C2ExternalStage(C2Options::parse(ctx.options), ctx.log) {}

C2ExternalStage::C2ExternalStage(C2Options options, sdk::Logger log)
    : opts_(std::move(options)), log_(std::move(log)) {
  const bool cmd = !opts_.command.empty(), url = !opts_.url.empty();
  if (cmd == url) {
    throw sdk::invalid_argument(
        std::string("options command and url: ") + (cmd ? "both are set" : "neither is set") +
        " (set exactly one: command = [\"lotus-bench\", \"prove\", \"{input}\"] or url = "
        "\"http://host:port/path\")");
  }
  if (cmd && opts_.command[0].empty()) {
    throw sdk::invalid_argument("option command: the program name (first element) is empty");
  }
  if (url) (void)parse_http_url(opts_.url);
  if (opts_.timeout.count() <= 0) {
    throw sdk::invalid_argument("option timeout: must be positive (e.g. \"2h\")");
  }
}

std::string C2ExternalStage::run(std::string_view input_json, const sdk::Job& job) {
  return format_output(prove(parse_input(input_json), job));
}

C2Output C2ExternalStage::prove(const C2Input& in, const sdk::Job& job) {
  const auto t0 = Clock::now();
  const std::string what = "c2 " + sector_name(in.sector);
  const size_t want = expected_proof_bytes(in.sector.size);
  const auto c1 = read_c1(in, what);
  const std::string doc = commit2_input_json(in.sector.number, c1, in.sector.size);
  job.check_cancel(what);
  job.progress(0, 1, "prove");

  C2Output out;
  out.sector = in.sector;
  out.input_bytes = doc.size();
  out.prover = opts_.command.empty() ? "url" : "command";
  out.proof = opts_.command.empty() ? by_url(in, doc, job, out.prover_seconds)
                                    : by_command(in, doc, job, out.prover_seconds);
  if (opts_.check_proof_size && out.proof.size() != want) {
    throw sdk::failed_precondition(
        what + ": the prover returned " + std::to_string(out.proof.size()) +
        " bytes, but a proof of this sector size is " + std::to_string(want) + " (192 per " +
        "partition; check proof_format, or set check_proof_size = false for a prover with "
        "another layout)");
  }
  job.progress(1, 1, "done");
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  log_.info(what + ": " + std::to_string(out.proof.size()) + "-byte proof from the " + out.prover +
            " prover in " + std::to_string(out.prover_seconds) + " s");
  return out;
}

std::vector<uint8_t> C2ExternalStage::by_command(const C2Input& in, const std::string& doc,
                                                 const sdk::Job& job, double& secs) {
  const std::string what = "c2 " + sector_name(in.sector);
  WorkDir dir(opts_.work_dir, sector_name(in.sector));
  const fs::path input = dir.path() / "commit2-input.json";
  const fs::path output = dir.path() / "proof.out";
  write_private(input, doc);
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"{input}", input.string()},
      {"{output}", output.string()},
      {"{sector}", std::to_string(in.sector.number)},
      {"{miner}", std::to_string(in.sector.miner)},
      {"{size}", std::to_string(in.sector.size)}};
  std::vector<std::string> argv;
  bool has_input = false, has_output = false;
  for (const auto& a : opts_.command) {
    has_input = has_input || a.find("{input}") != std::string::npos;
    has_output = has_output || a.find("{output}") != std::string::npos;
    argv.push_back(substitute(a, vars));
  }
  if (!has_input) argv.push_back(input.string());
  log_.debug(what + ": running " + argv[0] + " (" + std::to_string(argv.size() - 1) +
             " arguments)");
  const auto r = run_process(argv, opts_.timeout, waiting(job, "prover " + argv[0], opts_.timeout),
                             kOutputLimit);
  secs = r.seconds;
  const std::string err = r.err_tail.empty() ? "" : "; stderr: " + tail(r.err_tail);
  if (r.cancelled) throw sdk::cancelled(what + ": cancelled; prover " + argv[0] + " killed");
  if (r.timed_out) {
    throw sdk::unavailable(what + ": prover " + argv[0] + " did not finish within " +
                           std::to_string(opts_.timeout.count()) +
                           " ms; its process group was killed (raise [stages.c2] timeout)" + err);
  }
  if (!r.exited) {
    throw sdk::unavailable(what + ": prover " + argv[0] + " was killed by signal " +
                           std::to_string(r.signal) + err);
  }
  if (r.exit_code != 0) {
    throw sdk::unavailable(what + ": prover " + argv[0] + " exited with status " +
                           std::to_string(r.exit_code) + err);
  }
  if (!r.err_tail.empty()) log_.debug(what + ": prover stderr: " + tail(r.err_tail, 500));
  std::string text = r.out;
  std::string source = what + ": stdout of " + argv[0];
  if (has_output) {
    std::error_code ec;
    if (!fs::exists(output, ec)) {
      throw sdk::failed_precondition(what + ": prover " + argv[0] +
                                     " exited 0 but wrote no {output} file" + err);
    }
    std::ifstream f(output, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    source = what + ": {output} file of " + argv[0];
  }
  return parse_proof(text, opts_.proof_format, source);
}

std::vector<uint8_t> C2ExternalStage::by_url(const C2Input& in, const std::string& doc,
                                             const sdk::Job& job, double& secs) {
  const std::string what = "c2 " + sector_name(in.sector);
  const auto target = parse_http_url(opts_.url);
  const auto r = http_post(target, doc,
                           {{"X-Sealhost-Sector", sector_name(in.sector)},
                            {"X-Sealhost-Sector-Size", std::to_string(in.sector.size)}},
                           opts_.timeout, waiting(job, opts_.url, opts_.timeout), kOutputLimit);
  secs = r.seconds;
  if (r.status < 200 || r.status > 299) {
    const std::string msg = what + ": " + opts_.url + " answered HTTP " + std::to_string(r.status) +
                            (r.body.empty() ? std::string() : ": " + tail(r.body, 500));
    if (r.status >= 500 || r.status == 429 || r.status == 408) {
      throw sdk::unavailable(msg + " (retry later)");
    }
    throw sdk::failed_precondition(msg + " (check [stages.c2] url and the prover service)");
  }
  return parse_proof(r.body, opts_.proof_format, what + ": response of " + opts_.url);
}

}  // namespace sealhost::stage_c2
