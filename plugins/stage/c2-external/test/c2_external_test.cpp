// sealhost.stage.c2-external driven directly (no loader). The external prover is played by small
// scripts (python3 checking the commit2 input exactly as lotus-bench would read it, shell scripts
// that fail, hang, or print nothing) and by a tiny HTTP server on 127.0.0.1:0 (Boost.Asio/Beast).
// Nothing here fakes a SNARK: the stage only transports bytes, and the tests check it transports
// them faithfully and fails clearly.
#include "plugins/stage/c2-external/c2_stage.hpp"
#include "plugins/stage/c2-external/transport.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/testing.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sealhost::stage_c2 {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

std::vector<uint8_t> fixed_proof(size_t n = 192) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(i * 7 + 1);
  return p;
}
std::string hex_of(const std::vector<uint8_t>& b) {
  return stage::hex(b.data(), b.size());
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A process is gone once it has no /proc entry or is a zombie waiting for init.
bool process_gone(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  if (!f) return true;
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

class C2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    c1_ = tmp_ / "c1-output.json";
    std::ofstream(c1_) << R"({"registered_proof":"StackedDrg2KiBV1_1","vanilla_proofs":)"
                          R"({"StackedDrg2KiBV1":[[{"comm_d_proofs":{}}]]},"comm_r":[1,2,3],)"
                          R"("comm_d":[4],"replica_id":[5],"seed":[6],"ticket":[7]})";
    fs::create_directories(tmp_ / "work");
  }
  fs::path script(const std::string& name, const std::string& body, bool executable = true) {
    const fs::path p = tmp_ / name;
    std::ofstream(p) << body;
    if (executable) fs::permissions(p, fs::perms::owner_all);
    return p;
  }
  C2Options command(std::vector<std::string> argv,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    C2Options o;
    o.command = std::move(argv);
    o.timeout = timeout;
    o.work_dir = (tmp_ / "work").string();
    return o;
  }
  C2Input input(uint64_t size = 2048) { return {{1000, 7, size}, c1_.string()}; }
  // Runs and expects an sdk::Error with `code` whose message contains `what`.
  void expect_error(C2ExternalStage& st, const C2Input& in, sealhost_status code,
                    const std::string& what, const sdk::Job& job = sdk::Job(nullptr)) {
    try {
      st.prove(in, job);
      ADD_FAILURE() << "expected an error containing " << what;
    } catch (const sdk::Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_THAT(e.what(), HasSubstr(what));
    }
  }
  bool work_dir_empty() const { return fs::is_empty(tmp_ / "work"); }

  sdk::testing::TempDir tmp_{"sealhost-c2"};
  fs::path c1_;
};

// ---------------------------------------------------------------------------------- encoding

TEST(C2Encoding, Base64MatchesRfc4648) {
  const std::pair<const char*, const char*> kVectors[] = {{"", ""},
                                                          {"f", "Zg=="},
                                                          {"fo", "Zm8="},
                                                          {"foo", "Zm9v"},
                                                          {"foob", "Zm9vYg=="},
                                                          {"fooba", "Zm9vYmE="},
                                                          {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, b64] : kVectors) {
    const std::string s = plain;
    const std::vector<uint8_t> bytes(s.begin(), s.end());
    EXPECT_EQ(base64_encode(bytes), b64);
    EXPECT_EQ(base64_decode(b64), bytes) << b64;
  }
  EXPECT_FALSE(base64_decode("Zm9"));
  EXPECT_FALSE(base64_decode("Zm=v"));
  EXPECT_FALSE(base64_decode("Zm9v!A=="));
}

TEST(C2Encoding, Commit2InputIsWhatLotusBenchReads) {
  const std::string hello = "hello";
  const std::vector<uint8_t> c1(hello.begin(), hello.end());
  // Go: json.Marshal(Commit2In{SectorNum: 7, Phase1Out: []byte("hello"), SectorSize: 2048}).
  EXPECT_EQ(commit2_input_json(7, c1, 2048),
            R"({"SectorNum":7,"Phase1Out":"aGVsbG8=","SectorSize":2048})");
}

TEST(C2Encoding, ProofFormats) {
  const auto p = fixed_proof();
  const std::string hex = hex_of(p);
  const std::string lotus = "----\nstart proof computation\nproof: " + hex +
                            "\n----\nresults (v28) (2048)\nseal: commit phase 2: 1s\n";
  EXPECT_EQ(parse_proof(lotus, "lotus-bench", "t"), p);
  EXPECT_EQ(parse_proof(lotus, "auto", "t"), p);
  EXPECT_EQ(parse_proof(hex + "\n", "hex", "t"), p);
  EXPECT_EQ(parse_proof("0x" + hex, "auto", "t"), p);
  EXPECT_EQ(parse_proof(base64_encode(p) + "\n", "base64", "t"), p);
  const std::string raw(p.begin(), p.end());
  EXPECT_EQ(parse_proof(raw, "raw", "t"), p);
  EXPECT_EQ(parse_proof(raw, "auto", "t"), p);
  for (const auto& [out, fmt, msg] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"", "auto", "empty proof"},
           {"\n", "hex", "empty proof"},
           {"xyz", "hex", "not hex"},
           {"abc", "base64", "not base64"},
           {hex, "lotus-bench", "no \"proof: <hex>\" line"},
           {"proof: zz\n", "auto", "not hex"}}) {
    try {
      parse_proof(out, fmt, "prover x");
      ADD_FAILURE() << fmt << " accepted " << out;
    } catch (const sdk::Error& e) {
      EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION);
      EXPECT_THAT(e.what(), HasSubstr(msg));
      EXPECT_THAT(e.what(), HasSubstr("prover x"));
    }
  }
}

TEST(C2Encoding, ProofSizeFollowsPartitions) {
  EXPECT_EQ(expected_proof_bytes(2048), 192u);
  EXPECT_EQ(expected_proof_bytes(8u << 20), 192u);
  EXPECT_EQ(expected_proof_bytes(512u << 20), 192u);
  EXPECT_EQ(expected_proof_bytes(32ull << 30), 1920u);
  EXPECT_EQ(expected_proof_bytes(64ull << 30), 1920u);
  EXPECT_THROW(expected_proof_bytes(3000), sdk::Error);
}

TEST(C2Encoding, HttpUrls) {
  auto t = parse_http_url("http://127.0.0.1:8123/v1/prove?x=1");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, "8123");
  EXPECT_EQ(t.target, "/v1/prove?x=1");
  t = parse_http_url("http://prover.local");
  EXPECT_EQ(t.port, "80");
  EXPECT_EQ(t.target, "/");
  t = parse_http_url("http://[::1]:9000/p");
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, "9000");
  for (const char* bad : {"https://x/", "ftp://x", "http://", "http://x:0/", "http://x:99999/",
                          "http://x:ab/", "http://u:p@x/"}) {
    EXPECT_THROW(parse_http_url(bad), sdk::Error) << bad;
  }
}

// ---------------------------------------------------------------------------------- records

TEST(C2Records, RoundTripAndRejectBadInput) {
  const auto in = parse_input(format_input({{1000, 7, 2048}, "/c1.json"}));
  EXPECT_EQ(in.sector.number, 7u);
  EXPECT_EQ(in.phase1_output_path, "/c1.json");
  auto refused = [](const std::string& json, const char* what) {
    try {
      parse_input(json);
      ADD_FAILURE() << "accepted " << json;
    } catch (const sdk::Error& e) {
      EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
      EXPECT_THAT(e.what(), HasSubstr(what)) << json;
    }
  };
  refused(R"({"v":1,"sector":{"miner":1,"number":2,"size":2048}})", "phase1_output_path");
  refused(R"({"v":1,"sector":{"miner":1,"number":2,"size":2048},"phase1_output_path":"/x",)"
          R"("seed":"00"})",
          "seed");
  refused(R"({"v":1,"sector":{"miner":1,"number":2,"size":4000},"phase1_output_path":"/x"})",
          "sector.size");
  refused(R"({"v":1,"sector":{"miner":1,"number":9223372036854775808,"size":2048},)"
          R"("phase1_output_path":"/x"})",
          "int64");
  refused(R"({"v":2,"sector":{"miner":1,"number":2,"size":2048},"phase1_output_path":"/x"})",
          "version");

  C2Output out;
  out.sector = {1000, 7, 2048};
  out.proof = fixed_proof();
  out.prover = "command";
  out.input_bytes = 99;
  out.prover_seconds = 1.5;
  out.seconds = 2;
  const std::string json = format_output(out);
  EXPECT_THAT(json, HasSubstr("\"proof\":\"" + hex_of(out.proof) + "\""));
  const auto back = parse_output(json);
  EXPECT_EQ(back.proof, out.proof);
  EXPECT_EQ(back.prover, "command");
  EXPECT_EQ(back.input_bytes, 99u);
  EXPECT_DOUBLE_EQ(back.prover_seconds, 1.5);
}

TEST(C2Options, ExactlyOneOfCommandAndUrl) {
  C2Options both;
  both.command = {"x"};
  both.url = "http://127.0.0.1:1/";
  EXPECT_THROW(C2ExternalStage(both, sdk::Logger()), sdk::Error);
  EXPECT_THROW(C2ExternalStage(C2Options{}, sdk::Logger()), sdk::Error);
  C2Options tls;
  tls.url = "https://prover/";
  try {
    C2ExternalStage st(tls, sdk::Logger());
    FAIL();
  } catch (const sdk::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("https"));
  }
}

// ---------------------------------------------------------------------------------- command

TEST_F(C2Test, LotusBenchStyleProverGetsTheExactInput) {
  // Checks the commit2 input as lotus-bench's json.Unmarshal into Commit2In would see it, and
  // that it is byte-identical to Go's json.Marshal output; then prints like `lotus-bench prove`.
  const auto prover = script("prover.py", R"(#!/usr/bin/env python3
import base64, json, sys
raw = open(sys.argv[1], 'rb').read()
doc = json.loads(raw)
assert list(doc) == ["SectorNum", "Phase1Out", "SectorSize"], list(doc)
assert doc["SectorNum"] == 7 and doc["SectorSize"] == 2048, doc
assert base64.b64decode(doc["Phase1Out"], validate=True) == open(sys.argv[2], 'rb').read()
assert raw == json.dumps(doc, separators=(',', ':')).encode()
sys.stderr.write("loading parameters\n")
print("----\nstart proof computation")
print("proof: " + bytes((i * 7 + 1) % 256 for i in range(192)).hex())
print("----\nresults (v28) (2048)\nseal: commit phase 2: 1.2s")
)");
  C2ExternalStage st(command({prover.string(), "{input}", c1_.string()}), sdk::Logger());
  const auto out = st.prove(input(), sdk::Job(nullptr));
  EXPECT_EQ(out.proof, fixed_proof());
  EXPECT_EQ(out.prover, "command");
  const std::string c1 = read_file(c1_);
  EXPECT_EQ(out.input_bytes,
            commit2_input_json(7, std::vector<uint8_t>(c1.begin(), c1.end()), 2048).size());
  EXPECT_GT(out.prover_seconds, 0);
  EXPECT_TRUE(work_dir_empty()) << "the commit2 input file is removed after the call";
  // Through the JSON interface too: the proof comes back as hex.
  const auto rec = parse_output(st.run(format_input(input()), sdk::Job(nullptr)));
  EXPECT_EQ(rec.proof, fixed_proof());
}

TEST_F(C2Test, PlaceholdersAndOutputFile) {
  const auto prover = script("prover.py", R"(#!/usr/bin/env python3
import json, sys
args = sys.argv[1:]
json.dump(args, open(sys.argv[0] + '.args', 'w'))
out = [a for a in args if a.startswith('--out=')][0][len('--out='):]
open(out, 'wb').write(bytes((i * 7 + 1) % 256 for i in range(192)))
print("noise on stdout that is not the proof")
)");
  auto o = command({prover.string(), "--miner=t0{miner}", "--sector={sector}", "--size={size}",
                    "--out={output}"});
  o.proof_format = "raw";
  C2ExternalStage st(o, sdk::Logger());
  EXPECT_EQ(st.prove(input(), sdk::Job(nullptr)).proof, fixed_proof());
  const auto args = nlohmann::json::parse(read_file(prover.string() + ".args"));
  ASSERT_EQ(args.size(), 5u);  // {input} not named: appended last
  EXPECT_EQ(args[0], "--miner=t01000");
  EXPECT_EQ(args[1], "--sector=7");
  EXPECT_EQ(args[2], "--size=2048");
  EXPECT_THAT(args[3].get<std::string>(), HasSubstr("proof.out"));
  EXPECT_THAT(args[4].get<std::string>(), HasSubstr("commit2-input.json"));
}

TEST_F(C2Test, HexAndBase64OnStdout) {
  const auto hex = script("hex.sh", "#!/bin/sh\necho " + hex_of(fixed_proof()) + "\n");
  auto o = command({hex.string()});
  o.proof_format = "hex";
  EXPECT_EQ(C2ExternalStage(o, sdk::Logger()).prove(input(), sdk::Job(nullptr)).proof,
            fixed_proof());
  const auto b64 = script("b64.sh", "#!/bin/sh\necho " + base64_encode(fixed_proof()) + "\n");
  o = command({b64.string()});
  o.proof_format = "base64";
  EXPECT_EQ(C2ExternalStage(o, sdk::Logger()).prove(input(), sdk::Job(nullptr)).proof,
            fixed_proof());
}

TEST_F(C2Test, NonZeroExitCarriesTheStderrTail) {
  const auto fail = script("fail.sh",
                           "#!/bin/sh\necho 'early noise' >&2\n"
                           "echo 'open /var/tmp/filecoin-proof-parameters/v28-stacked: no such "
                           "file' >&2\nexit 3\n");
  C2ExternalStage st(command({fail.string()}), sdk::Logger());
  expect_error(st, input(), SEALHOST_E_UNAVAILABLE, "exited with status 3");
  expect_error(st, input(), SEALHOST_E_UNAVAILABLE, "filecoin-proof-parameters/v28-stacked");
  EXPECT_TRUE(work_dir_empty());
}

TEST_F(C2Test, TimeoutKillsTheWholeProcessGroup) {
  const fs::path pidfile = tmp_ / "child.pid";
  const auto slow =
      script("slow.sh", "#!/bin/sh\nsleep 30 &\necho $! > " + pidfile.string() + "\nwait\n");
  C2ExternalStage st(command({slow.string()}, std::chrono::milliseconds(300)), sdk::Logger());
  const auto t0 = Clock::now();
  expect_error(st, input(), SEALHOST_E_UNAVAILABLE, "did not finish within 300 ms");
  EXPECT_LT(seconds_since(t0), 5.0);
  const pid_t child = std::stoi(read_file(pidfile));
  for (int i = 0; i < 100 && !process_gone(child); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(process_gone(child)) << "the prover's own child (sleep) must be killed too";
  EXPECT_TRUE(work_dir_empty());
}

TEST_F(C2Test, ProverIgnoringSigtermIsKilled) {
  const auto stubborn = script("stubborn.sh", "#!/bin/sh\ntrap '' TERM\nsleep 30\n");
  const auto t0 = Clock::now();
  const auto r = run_process({stubborn.string()}, std::chrono::milliseconds(200), nullptr, 1024,
                             std::chrono::milliseconds(200));
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_LT(seconds_since(t0), 5.0);
}

TEST_F(C2Test, ReportsWaitingProgressAgainstTheTimeout) {
  const auto slow =
      script("slow.sh", "#!/bin/sh\nsleep 1.3\necho proof: " + hex_of(fixed_proof()) + "\n");
  C2ExternalStage st(command({slow.string()}, std::chrono::seconds(20)), sdk::Logger());
  sdk::testing::FakeJob job;
  EXPECT_EQ(st.prove(input(), sdk::Job(job.c())).proof, fixed_proof());
  EXPECT_GE(job.progress_calls(), 3u);  // "prove", at least one "waiting for …", "done"
}

TEST_F(C2Test, CancelKillsTheProver) {
  const auto slow = script("slow.sh", "#!/bin/sh\nsleep 30\n");
  C2ExternalStage st(command({slow.string()}), sdk::Logger());
  sdk::testing::FakeJob job;
  job.cancel_after_checks(3);
  const auto t0 = Clock::now();
  expect_error(st, input(), SEALHOST_E_CANCELLED, "cancelled", sdk::Job(job.c()));
  EXPECT_LT(seconds_since(t0), 5.0);
}

TEST_F(C2Test, ProverThatCannotRun) {
  C2ExternalStage missing(command({"/nonexistent/lotus-bench", "prove"}), sdk::Logger());
  expect_error(missing, input(), SEALHOST_E_FAILED_PRECONDITION,
               "/nonexistent/lotus-bench: not found");
  C2ExternalStage not_in_path(command({"sealhost-no-such-prover-xyz"}), sdk::Logger());
  expect_error(not_in_path, input(), SEALHOST_E_FAILED_PRECONDITION, "not found");
  const auto plain = script("plain.sh", "#!/bin/sh\necho hi\n", /*executable=*/false);
  C2ExternalStage not_exec(command({plain.string()}), sdk::Logger());
  expect_error(not_exec, input(), SEALHOST_E_FAILED_PRECONDITION, "cannot be executed");
  EXPECT_TRUE(work_dir_empty());
}

TEST_F(C2Test, EmptyOrWrongSizedProof) {
  const auto quiet = script("quiet.sh", "#!/bin/sh\nexit 0\n");
  C2ExternalStage st(command({quiet.string()}), sdk::Logger());
  expect_error(st, input(), SEALHOST_E_FAILED_PRECONDITION, "empty proof");

  const auto half = script("half.sh", "#!/bin/sh\necho proof: " + hex_of(fixed_proof(96)) + "\n");
  C2ExternalStage st2(command({half.string()}), sdk::Logger());
  expect_error(st2, input(), SEALHOST_E_FAILED_PRECONDITION, "returned 96 bytes");
  const auto no_out = script("noout.sh", "#!/bin/sh\nexit 0\n");
  C2ExternalStage st4(command({no_out.string(), "{output}"}), sdk::Logger());
  expect_error(st4, input(), SEALHOST_E_FAILED_PRECONDITION, "wrote no {output} file");
  // A 32GiB sector needs ten partition proofs.
  std::ofstream(c1_) << R"({"registered_proof":"StackedDrg32GiBV1_1"})";
  const auto one = script("one.sh", "#!/bin/sh\necho proof: " + hex_of(fixed_proof()) + "\n");
  C2ExternalStage st3(command({one.string()}), sdk::Logger());
  expect_error(st3, input(32ull << 30), SEALHOST_E_FAILED_PRECONDITION, "is 1920");
  auto o = command({one.string()});
  o.check_proof_size = false;
  EXPECT_EQ(C2ExternalStage(o, sdk::Logger()).prove(input(32ull << 30), sdk::Job(nullptr)).proof,
            fixed_proof());
}

TEST_F(C2Test, C1OutputIsChecked) {
  const auto one = script("one.sh", "#!/bin/sh\necho proof: " + hex_of(fixed_proof()) + "\n");
  C2ExternalStage st(command({one.string()}), sdk::Logger());
  auto in = input();
  in.phase1_output_path = (tmp_ / "missing.json").string();
  expect_error(st, in, SEALHOST_E_NOT_FOUND, "missing.json");
  std::ofstream(c1_, std::ios::trunc) << "";
  expect_error(st, input(), SEALHOST_E_FAILED_PRECONDITION, "is empty");
  std::ofstream(c1_, std::ios::trunc) << "{\"registered_proof\": ";
  expect_error(st, input(), SEALHOST_E_FAILED_PRECONDITION, "not a SealCommitPhase1Output");
  std::ofstream(c1_, std::ios::trunc) << "[1,2]";
  expect_error(st, input(), SEALHOST_E_FAILED_PRECONDITION, "not a SealCommitPhase1Output");
  std::ofstream(c1_, std::ios::trunc) << R"({"registered_proof":"StackedDrg8MiBV1_1"})";
  expect_error(st, input(), SEALHOST_E_FAILED_PRECONDITION, "StackedDrg8MiBV1_1");
  // A nested "registered_proof" is not the top-level one.
  std::ofstream(c1_, std::ios::trunc) << R"({"x":{"registered_proof":"StackedDrg8MiBV1_1"}})";
  EXPECT_EQ(st.prove(input(), sdk::Job(nullptr)).proof, fixed_proof());
}

TEST_F(C2Test, ConcurrentCallsDoNotShareFiles) {
  const auto prover =
      script("prover.sh",
             "#!/bin/sh\nsleep 0.2\ngrep -q '\"SectorNum\":'$2',' \"$1\" || exit 9\n"
             "echo proof: " +
                 hex_of(fixed_proof()) + "\n");
  C2ExternalStage st(command({prover.string(), "{input}", "{sector}"}), sdk::Logger());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (uint64_t n = 1; n <= 4; ++n) {
    threads.emplace_back([&, n] {
      C2Input in{{1000, n, 2048}, c1_.string()};
      if (st.prove(in, sdk::Job(nullptr)).proof == fixed_proof()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 4);
  EXPECT_TRUE(work_dir_empty());
}

// ---------------------------------------------------------------------------------- url

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// One-connection-at-a-time HTTP/1.1 server on 127.0.0.1:<ephemeral>. The handler returns the
// response, or nullopt to hang until the server stops (a prover that never answers).
class TestServer {
 public:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;
  using Handler = std::function<std::optional<Response>(const Request&)>;

  explicit TestServer(Handler h) : handler_(std::move(h)), acceptor_(ioc_) {
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~TestServer() {
    stop_ = true;
    try {  // unblock accept()
      net::io_context ioc;
      tcp::socket s(ioc);
      s.connect({net::ip::make_address("127.0.0.1"), port_});
    } catch (...) {
    }
    thread_.join();
  }
  std::string url(const std::string& path = "/prove") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stop_) {
      tcp::socket sock(ioc_);
      beast::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) return;
      beast::flat_buffer buf;
      Request req;
      http::read(sock, buf, req, ec);
      if (ec) continue;
      ++requests_;
      auto res = handler_(req);
      if (!res) {
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return;
      }
      res->version(11);
      res->prepare_payload();
      http::write(sock, *res, ec);
      sock.shutdown(tcp::socket::shutdown_both, ec);
    }
  }
  Handler handler_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
};

TestServer::Response reply(unsigned status, std::string body) {
  TestServer::Response r{static_cast<http::status>(status), 11};
  r.body() = std::move(body);
  return r;
}

TEST_F(C2Test, UrlModePostsTheCommit2InputAndReadsTheProof) {
  std::string seen_body, seen_type, seen_sector, seen_target;
  http::verb seen_method{};
  TestServer server([&](const TestServer::Request& req) -> std::optional<TestServer::Response> {
    seen_method = req.method();
    seen_target = std::string(req.target());
    seen_type = std::string(req[http::field::content_type]);
    seen_sector = std::string(req["X-Sealhost-Sector"]);
    seen_body = req.body();
    return reply(200, hex_of(fixed_proof()) + "\n");
  });
  C2Options o;
  o.url = server.url("/v1/commit2");
  o.timeout = std::chrono::seconds(10);
  C2ExternalStage st(o, sdk::Logger());
  const auto out = st.prove(input(), sdk::Job(nullptr));
  EXPECT_EQ(out.proof, fixed_proof());
  EXPECT_EQ(out.prover, "url");
  EXPECT_EQ(seen_method, http::verb::post);
  EXPECT_EQ(seen_target, "/v1/commit2");
  EXPECT_EQ(seen_type, "application/json");
  EXPECT_EQ(seen_sector, "s-t01000-7");
  const std::string c1 = read_file(c1_);
  EXPECT_EQ(seen_body, commit2_input_json(7, std::vector<uint8_t>(c1.begin(), c1.end()), 2048));
}

TEST_F(C2Test, UrlModeHttpErrors) {
  TestServer server([](const TestServer::Request& req) -> std::optional<TestServer::Response> {
    if (req.target() == "/busy") return reply(503, "all GPUs busy");
    if (req.target() == "/oom") return reply(500, "CUDA error 2: out of memory");
    if (req.target() == "/empty") return reply(200, "");
    return reply(404, "no such endpoint");
  });
  auto make = [&](const std::string& path) {
    C2Options o;
    o.url = server.url(path);
    o.timeout = std::chrono::seconds(10);
    return C2ExternalStage(o, sdk::Logger());
  };
  auto oom = make("/oom");
  expect_error(oom, input(), SEALHOST_E_UNAVAILABLE, "HTTP 500: CUDA error 2: out of memory");
  auto busy = make("/busy");
  expect_error(busy, input(), SEALHOST_E_UNAVAILABLE, "HTTP 503");
  auto wrong = make("/nope");
  expect_error(wrong, input(), SEALHOST_E_FAILED_PRECONDITION, "HTTP 404: no such endpoint");
  auto empty = make("/empty");
  expect_error(empty, input(), SEALHOST_E_FAILED_PRECONDITION, "empty proof");
}

TEST_F(C2Test, UrlModeTimeoutCancelAndRefusedConnection) {
  TestServer server([](const TestServer::Request&) -> std::optional<TestServer::Response> {
    return std::nullopt;  // never answers
  });
  C2Options o;
  o.url = server.url();
  o.timeout = std::chrono::milliseconds(300);
  C2ExternalStage slow(o, sdk::Logger());
  auto t0 = Clock::now();
  expect_error(slow, input(), SEALHOST_E_UNAVAILABLE, "within the timeout of 300 ms");
  EXPECT_LT(seconds_since(t0), 5.0);

  o.timeout = std::chrono::seconds(30);
  C2ExternalStage patient(o, sdk::Logger());
  sdk::testing::FakeJob job;
  job.cancel_after_checks(3);
  t0 = Clock::now();
  expect_error(patient, input(), SEALHOST_E_CANCELLED, "cancelled", sdk::Job(job.c()));
  EXPECT_LT(seconds_since(t0), 5.0);

  // A port nobody listens on.
  unsigned short port;
  {
    net::io_context ioc;
    tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  o.url = "http://127.0.0.1:" + std::to_string(port) + "/prove";
  C2ExternalStage refused(o, sdk::Logger());
  expect_error(refused, input(), SEALHOST_E_UNAVAILABLE, "connect");
}

}  // namespace
}  // namespace sealhost::stage_c2
