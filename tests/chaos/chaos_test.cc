// The reliability ("chaos") suite: under concurrent writers and a reader
// through the gateway, faults come one at a time in a seeded random order
// (kill -9 of a tablet, the gateway, ctld or etcd; SIGSTOP of a primary; a
// replica's disk "full"), each followed by recovery. At the end it checks
// that no acknowledged write was lost or doubled, that no shard ever had
// two writable primaries, that the cluster converged, and that every
// replica equals its primary. See README.md for the knobs:
//   SHALE_CHAOS_SECONDS=600 SHALE_CHAOS_SEED=42 build/tests/chaos/chaos_test

#include <cstdlib>
#include <iostream>
#include <iterator>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/chaos/chaos_cluster.h"
#include "tests/chaos/pg_client.h"

namespace shale::chaos {
namespace {

// An unsigned number from the environment, or fallback.
uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  uint64_t n = 0;
  return v != nullptr && absl::SimpleAtoi(v, &n) ? n : fallback;
}

std::string At(absl::Time t, absl::Time start) {
  return absl::StrFormat("t+%.1fs", absl::ToDoubleSeconds(t - start));
}

TEST_F(ChaosTest, FaultsLoseNoAcknowledgedWriteAndNeverTwoPrimaries) {
  seed_ = EnvNumber("SHALE_CHAOS_SEED", absl::ToUnixNanos(absl::Now()));
  const absl::Duration run_for = absl::Seconds(EnvNumber("SHALE_CHAOS_SECONDS", 0));
  const int rounds = static_cast<int>(EnvNumber("SHALE_CHAOS_ROUNDS", 2));
  rng_.seed(seed_);
  std::cout << "chaos: seed " << seed_ << " (SHALE_CHAOS_SEED=" << seed_
            << " repeats this fault order); faults for " << rounds << " rounds of every kind"
            << (run_for == absl::ZeroDuration()
                    ? std::string()
                    : absl::StrCat(", then more until ", absl::FormatDuration(run_for)))
            << "; logs in " << LogDir() << std::endl;

  ChaosLoad::Options options;
  options.pg_port = pg_port_;
  options.seed = seed_;
  load_start_ = absl::Now();
  load_ = std::make_unique<ChaosLoad>(options);
  sampler_ =
      std::make_unique<PrimarySampler>(topo(),
                                       std::map<std::string, std::vector<std::string>>{
                                           {kShards[0], {Alias(0, 0), Alias(0, 1), Alias(0, 2)}},
                                           {kShards[1], {Alias(1, 0), Alias(1, 1), Alias(1, 2)}}},
                                       absl::Milliseconds(100));
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return load_->acked_count() >= 50; }))
      << "the writers do not get going: " << load_->error_count() << " errors";

  // Faults, one at a time: rounds of every kind, then more until run_for.
  FaultSchedule schedule(&rng_);
  int faults = 0;
  while (faults < rounds * static_cast<int>(std::size(kAllFaults)) ||
         absl::Now() - load_start_ < run_for) {
    if (!InjectAndRecover(schedule.Next(), ++faults)) break;
  }
  const absl::Duration faulting = absl::Now() - load_start_;

  // Convergence: healthy, load stopped, replicas caught up.
  std::string why;
  const absl::Time converge_start = absl::Now();
  const bool converged = WaitHealthy(absl::Seconds(60), &why);
  const absl::Duration converge_took = absl::Now() - converge_start;
  load_->Stop();
  sampler_->Stop();
  bool caught_up = converged;
  for (int s = 0; s < 2 && caught_up; ++s) caught_up = WaitCaughtUp(s, absl::Seconds(30), &why);

  // Every row, read back through the gateway (a scatter SELECT).
  PgClient pg(ChaosLoad::ConnInfo(pg_port_));
  absl::StatusOr<PgClient::Result> all = pg.Exec("SELECT id FROM chaos", absl::Seconds(60));
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<int64_t> rows;
  std::vector<int64_t> probes_present;
  for (const std::vector<std::string>& row : all->rows) {
    int64_t id = 0;
    ASSERT_TRUE(absl::SimpleAtoi(row[0], &id)) << row[0];
    if (id >= 900'000'000'000LL) {
      probes_present.push_back(id);  // written straight to a deposed primary
    } else {
      rows.push_back(id);
    }
  }
  const RowCheck rc = CheckRows(load_->acked(), load_->unknown(), rows);
  const ErrorCheck ec = ClassifyErrors(load_->errors(), windows_);
  const std::vector<MissingRead> missing = load_->missing_reads();
  const std::vector<PrimaryOverlap> overlaps = sampler_->overlaps();
  int same_term = 0;
  for (const PrimaryOverlap& o : overlaps) same_term += o.same_term;

  std::cout << "\n==== chaos invariants (seed " << seed_ << ", " << faults << " faults in "
            << absl::StrFormat("%.1fs", absl::ToDoubleSeconds(faulting)) << ")\n";
  for (const std::string& line : fault_log_) std::cout << "  " << line << "\n";
  std::cout << "acknowledged writes: " << rc.acked
            << "; outcome unknown: " << rc.unknown_present + rc.unknown_absent << " (present "
            << rc.unknown_present << ", absent " << rc.unknown_absent
            << "); rows read back: " << rc.rows << "\n"
            << "  lost acknowledged writes: " << Sample(rc.lost) << "\n"
            << "  duplicated rows: " << Sample(rc.duplicated) << "\n"
            << "  rows nobody wrote: " << Sample(rc.phantom) << "\n"
            << "point reads: " << load_->reads()
            << ", of them an acknowledged id not found: " << missing.size() << "\n";
  for (size_t i = 0; i < missing.size() && i < 10; ++i) {
    std::cout << "  " << At(missing[i].at, load_start_) << " id " << missing[i].id << "\n";
  }
  std::cout << "client errors: " << ec.during_faults.size() + ec.outside_faults.size()
            << " (during a fault or its recovery: " << ec.during_faults.size()
            << ", outside: " << ec.outside_faults.size() << ")\n";
  for (const auto* list : {&ec.outside_faults, &ec.during_faults}) {
    for (size_t i = 0; i < list->size() && i < 12; ++i) {
      const ClientError& e = (*list)[i];
      std::cout << "  " << (list == &ec.outside_faults ? "OUTSIDE " : "") << At(e.at, load_start_)
                << " " << e.client << ": " << e.what << "\n";
    }
  }
  std::cout << "primary sampling: " << sampler_->rounds() << " rounds, " << overlaps.size()
            << " rounds with two writable PRIMARY claims in a shard (same term: " << same_term
            << "), longest run " << absl::ToInt64Milliseconds(sampler_->LongestOverlap())
            << " ms\n";
  for (size_t i = 0; i < overlaps.size() && i < 10; ++i) {
    std::cout << "  " << At(overlaps[i].at, load_start_) << " " << overlaps[i].shard << ": "
              << absl::StrJoin(overlaps[i].claims, ", ") << "\n";
  }
  std::cout << "writes sent straight to a deposed primary after SIGCONT: " << deposed_probes_
            << ", acknowledged: " << deposed_acks_.size()
            << ", executed but not acknowledged: " << deposed_executed_.size()
            << ", present at the end: " << probes_present.size() << "\n";
  const bool fencing_gap =
      !deposed_executed_.empty() || static_cast<int>(overlaps.size()) > same_term;
  if (fencing_gap) {
    std::cout << "FENCING GAP: a deposed primary took writes or claimed to be writable after "
                 "SIGCONT (README.md, \"Fencing after SIGCONT\")\n";
  }
  std::cout << "writes acknowledged while a replica's disk was full:";
  for (int64_t n : acks_during_disk_full_) std::cout << " " << n;
  std::cout << "\nconvergence after the last fault: "
            << (converged ? absl::StrFormat("%.1fs", absl::ToDoubleSeconds(converge_took)) : "NONE")
            << "; replicas caught up: " << (caught_up ? "yes" : why) << "\n";
  if (caught_up) CheckReplicasEqualPrimaries();
  std::cout << "====" << std::endl;

  EXPECT_TRUE(rc.lost.empty()) << "acknowledged writes lost: " << Sample(rc.lost);
  EXPECT_TRUE(rc.duplicated.empty()) << "rows read back twice: " << Sample(rc.duplicated);
  EXPECT_TRUE(rc.phantom.empty()) << "rows nobody wrote: " << Sample(rc.phantom);
  EXPECT_TRUE(missing.empty()) << "point reads missed acknowledged rows";
  EXPECT_TRUE(ec.outside_faults.empty()) << "client errors while no fault was active";
  EXPECT_EQ(same_term, 0) << "two serving writable PRIMARYs with the same term";
  EXPECT_TRUE(deposed_acks_.empty()) << "a deposed primary acknowledged a write";
  EXPECT_FALSE(fencing_gap) << "two writable primaries in a shard (see FENCING GAP above)";
  for (int64_t n : acks_during_disk_full_) {
    EXPECT_GT(n, 0) << "a replica's full disk stopped its shard's writes";
  }
  EXPECT_TRUE(converged) << why;
  EXPECT_TRUE(caught_up) << why;
}

}  // namespace
}  // namespace shale::chaos
