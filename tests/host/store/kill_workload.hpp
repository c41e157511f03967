// The kill test's workload, shared by the writer process and the verifying test.
//
// Batch b (b = 0, 1, ...) is written in one transaction:
//  - counters/"kill_test.batches" advanced from b to b+1;
//  - 1..20 item events in sector_events stream b, each {i, payload (hex of 0..3000 random bytes),
//    sha256 of the payload};
//  - sectors/b = {n, digest}: the item count and sha256 over the items' sha256 strings;
//  - jobs/(b mod 7) = {batch: b} (overwrites, so pages get rewritten and freed);
//  - meta/"kill_test.scratch" put and deleted again (never visible when committed).
// verify() checks that exactly the batches the counter claims are present and intact.
#pragma once

#include <cstdint>
#include <random>

#include "host/store/env.hpp"
#include "host/store/status.hpp"

namespace sealhost::store::testing {

// A small start so the map grows (and gets killed while growing) during the test.
EnvOptions kill_workload_options();

// Writes the next batch; reruns after map growth are fine (the counter is re-read).
Status write_batch(WriteTxn& txn, std::mt19937_64& rng);

struct WorkloadSummary {
  std::uint64_t batches = 0;
  std::uint64_t items = 0;
};

// kCorruption describing the first inconsistency, if any.
Result<WorkloadSummary> verify_workload(Env& env);

}  // namespace sealhost::store::testing
