#include "tests/host/store/kill_workload.hpp"

#include <openssl/sha.h>

#include <string>

#include <nlohmann/json.hpp>

#include "host/store/counters.hpp"
#include "host/store/event_log.hpp"
#include "host/store/keys.hpp"
#include "host/store/record.hpp"

namespace sealhost::store::testing {
namespace {

using nlohmann::json;

constexpr std::string_view kCounter = "kill_test.batches";
constexpr std::string_view kBatchKind = "kill_test.batch";
constexpr std::string_view kItemKind = "kill_test.item";
constexpr std::string_view kSlotKind = "kill_test.slot";
constexpr std::string_view kScratch = "kill_test.scratch";
constexpr std::uint64_t kSlots = 7;

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string from_hex(const std::string& hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

Status bad(const std::string& what) {
  return Status::corruption("kill test: " + what);
}

}  // namespace

EnvOptions kill_workload_options() {
  EnvOptions o;
  o.initial_map_size = std::uint64_t{256} << 10;
  return o;
}

Status write_batch(WriteTxn& txn, std::mt19937_64& rng) {
  auto batch = next_counter(txn, kCounter);
  if (!batch) return batch.status();
  const std::uint64_t b = *batch;
  if (auto s = txn.put(Db::kMeta, kScratch, "in flight"); !s) return s;
  const std::uint64_t n = 1 + rng() % 20;
  std::string item_hashes;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string payload(rng() % 3001, '\0');
    for (auto& c : payload) c = static_cast<char>(rng());
    const std::string hash = sha256_hex(payload);
    item_hashes += hash;
    auto seq = append_event_record(
        txn, b, json{{"i", i}, {"payload", to_hex(payload)}, {"sha256", hash}}, kItemKind, 1);
    if (!seq) return seq.status();
    if (*seq != i)
      return bad("batch " + std::to_string(b) + " item " + std::to_string(i) + " got sequence " +
                 std::to_string(*seq));
  }
  if (auto s = put_record(txn, Db::kSectors, key_u64(b),
                          json{{"n", n}, {"digest", sha256_hex(item_hashes)}}, kBatchKind, 1);
      !s) {
    return s;
  }
  if (auto s = put_record(txn, Db::kJobs, key_u64(b % kSlots), json{{"batch", b}}, kSlotKind, 1);
      !s) {
    return s;
  }
  return txn.del(Db::kMeta, kScratch);
}

Result<WorkloadSummary> verify_workload(Env& env) {
  auto txn = env.begin_read();
  if (!txn) return txn.status();
  WorkloadSummary summary;
  auto batches = peek_counter(*txn, kCounter);
  if (!batches) return batches.status();
  summary.batches = *batches;
  const std::uint64_t count = summary.batches;

  auto sectors = txn->entries(Db::kSectors);
  if (!sectors) return sectors.status();
  if (*sectors != count) {
    return bad("counter says " + std::to_string(count) + " batches but " +
               std::to_string(*sectors) + " batch records exist");
  }
  for (std::uint64_t b = 0; b < count; ++b) {
    const std::string name = "batch " + std::to_string(b);
    auto record = get_record(*txn, Db::kSectors, key_u64(b), kBatchKind, 1);
    if (!record) return record.status();
    const auto n = record->data.at("n").get<std::uint64_t>();
    std::string item_hashes;
    std::uint64_t expected_seq = 0;
    Status item_error;
    Status s = for_each_event(*txn, b, [&](std::uint64_t seq, std::string_view value) {
      auto item =
          decode_record(describe(Db::kSectorEvents, key_u64_pair(b, seq)), value, kItemKind, 1);
      if (!item) {
        item_error = item.status();
        return false;
      }
      const auto& d = item->data;
      const std::string hash = d.at("sha256").get<std::string>();
      if (seq != expected_seq || d.at("i").get<std::uint64_t>() != seq ||
          sha256_hex(from_hex(d.at("payload").get<std::string>())) != hash) {
        item_error = bad(name + " item " + std::to_string(seq) + " is damaged or out of order");
        return false;
      }
      item_hashes += hash;
      ++expected_seq;
      return true;
    });
    if (!s) return s;
    if (!item_error) return item_error;
    if (expected_seq != n) {
      return bad(name + " has " + std::to_string(expected_seq) + " items, its record says " +
                 std::to_string(n));
    }
    if (sha256_hex(item_hashes) != record->data.at("digest").get<std::string>()) {
      return bad(name + " digest does not match its items");
    }
    summary.items += n;
  }
  auto events = txn->entries(Db::kSectorEvents);
  if (!events) return events.status();
  if (*events != summary.items) {
    return bad(std::to_string(*events - summary.items) +
               " item events belong to no committed batch (a partial batch is visible)");
  }
  for (std::uint64_t slot = 0; slot < kSlots; ++slot) {
    auto record = get_record(*txn, Db::kJobs, key_u64(slot), kSlotKind, 1);
    if (count <= slot) {
      if (!record.status().is_not_found())
        return bad("slot " + std::to_string(slot) + " too early");
      continue;
    }
    if (!record) return record.status();
    const std::uint64_t expected = slot + (count - 1 - slot) / kSlots * kSlots;
    if (record->data.at("batch").get<std::uint64_t>() != expected) {
      return bad("slot " + std::to_string(slot) + " holds batch " +
                 record->data.at("batch").dump() + ", expected " + std::to_string(expected));
    }
  }
  auto scratch = txn->get(Db::kMeta, kScratch);
  if (!scratch.status().is_not_found()) return bad("scratch key of a batch is visible");
  return summary;
}

}  // namespace sealhost::store::testing
