// The faults of ChaosTest (chaos_cluster.h), one function each: inject, hold
// for a fixed time (a fault's duration, not a wait for a condition), then
// restart or lift, and return a line saying what happened.

#include <signal.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/chaos/chaos_cluster.h"

namespace shale::chaos {
namespace {

// How long the cluster has to be healthy again after a fault. ctld's
// restart alone takes the old leader's lock lease (10 s).
constexpr absl::Duration kRecoverTimeout = absl::Seconds(45);
// Errors this long after recovery still count as the fault's.
constexpr absl::Duration kGrace = absl::Seconds(1);
// First id of the writes sent straight to a deposed primary.
constexpr int64_t kProbeIds = 900'000'000'000LL;

// A fault's fixed duration: how long a process stays dead or stopped.
void Hold(absl::Duration d) { absl::SleepFor(d); }

// The size of each tablet's tmpfs data dir: room for a long run's data, a
// re-clone's snapshot beside it, and the WAL.
constexpr uint64_t kDataDirBytes = 64ull << 20;

}  // namespace

std::string ChaosTest::Elapsed() const {
  return absl::StrFormat("t+%.1fs", absl::ToDoubleSeconds(absl::Now() - load_start_));
}

bool ChaosTest::InjectAndRecover(FaultKind kind, int number) {
  const absl::Time start = absl::Now();
  const int64_t acked = load_->acked_count();
  const int64_t errors = load_->error_count();
  const std::string at = Elapsed();
  std::string what;
  switch (kind) {
    case FaultKind::kKillTablet:
      what = KillTablet();
      break;
    case FaultKind::kKillGate:
      what = KillGate();
      break;
    case FaultKind::kKillCtld:
      what = KillCtld();
      break;
    case FaultKind::kStopPrimary:
      what = StopPrimary();
      break;
    case FaultKind::kRestartEtcd:
      what = RestartEtcd();
      break;
    case FaultKind::kReplicaDiskFull:
      what = ReplicaDiskFull();
      break;
  }
  const absl::Time lifted = absl::Now();
  std::string why;
  const bool healthy = !HasFatalFailure() && WaitHealthy(kRecoverTimeout, &why);
  const absl::Time end = absl::Now();
  windows_.push_back({absl::StrCat("fault ", number, " ", FaultName(kind)), start, end + kGrace});
  std::string line = absl::StrFormat(
      "fault %d at %s: %s: %s; %s in %.1fs after it was lifted; writes acknowledged +%d, client "
      "errors +%d",
      number, at, FaultName(kind), what, healthy ? "healthy again" : "NOT RECOVERED",
      absl::ToDoubleSeconds(end - lifted), load_->acked_count() - acked,
      load_->error_count() - errors);
  if (!healthy) absl::StrAppend(&line, " (", why, ")");
  std::cout << line << std::endl;
  fault_log_.push_back(line);
  EXPECT_TRUE(healthy) << line;
  return healthy;
}

std::string ChaosTest::KillTablet() {
  // A primary half of the time (a failover), else one of its replicas.
  const int shard = std::uniform_int_distribution<int>(0, 1)(rng_);
  const bool primary = std::bernoulli_distribution(0.5)(rng_);
  const std::vector<std::string> replicas = Replicas(shard);
  const std::string alias =
      primary ? ShardPrimary(shard)
              : replicas[std::uniform_int_distribution<size_t>(0, replicas.size() - 1)(rng_)];
  if (alias.empty()) {
    ADD_FAILURE() << "no primary for " << kShards[shard];
    return "no primary";
  }
  Subprocess& p = *tablets_.at(alias);
  EXPECT_TRUE(p.Kill(SIGKILL).ok());
  EXPECT_TRUE(p.WaitFor(absl::Seconds(10)).ok());
  // A dead primary stays down long enough for ctld (--failover-after 1.5s)
  // to replace it; the restart then finds a newer term.
  const int down_s = primary ? 4 : 2;
  Hold(absl::Seconds(down_s));
  const std::string after = ShardPrimary(shard);
  StartTablet(alias, TabletFlags(shard));  // same data dir and flags
  return absl::StrCat(alias, primary ? " (primary" : " (replica", " of ", kShards[shard],
                      "), down ", down_s, "s, shard primary then ", after.empty() ? "?" : after,
                      "; restarted");
}

std::string ChaosTest::KillGate() {
  EXPECT_TRUE(gate_->Kill(SIGKILL).ok());
  EXPECT_TRUE(gate_->WaitFor(absl::Seconds(10)).ok());
  Hold(absl::Seconds(1));
  StartGate();  // same PostgreSQL port; waits until it serves every tablet
  return absl::StrCat("down 1s, restarted on port ", pg_port_);
}

std::string ChaosTest::KillCtld() {
  EXPECT_TRUE(ctld_.process->Kill(SIGKILL).ok());
  EXPECT_TRUE(ctld_.process->WaitFor(absl::Seconds(10)).ok());
  Hold(absl::Seconds(1));
  ctld_ = e2e::StartCtldProcess(topo(), CtldFlags(), LaunchPrefix("ctld"));
  return "down 1s, restarted (it leads once the old leader's lock lease ends)";
}

std::string ChaosTest::StopPrimary() {
  const int shard = std::uniform_int_distribution<int>(0, 1)(rng_);
  const std::string old_primary = ShardPrimary(shard);
  if (old_primary.empty()) {
    ADD_FAILURE() << "no primary for " << kShards[shard];
    return "no primary";
  }
  absl::StatusOr<std::unique_ptr<tablet::TabletClient>> client = Dial(old_primary);
  EXPECT_TRUE(client.ok()) << client.status();
  Subprocess& p = *tablets_.at(old_primary);
  EXPECT_TRUE(p.Kill(SIGSTOP).ok());
  Hold(absl::Seconds(4));
  EXPECT_TRUE(p.Kill(SIGCONT).ok());
  const std::string now_primary = ShardPrimary(shard);
  std::string what = absl::StrCat(old_primary, " (primary of ", kShards[shard],
                                  ") stopped 4s; shard primary then ", now_primary);
  if (now_primary == old_primary || !client.ok()) return what;
  // Deposed while stopped: at once after SIGCONT, before it can have
  // noticed, write to it directly as its primary. It must not acknowledge.
  const int64_t id = kProbeIds + deposed_probes_++;
  tablet::ExecuteRequest req;
  *req.mutable_target() = MakeTarget("app", kShards[shard], topodata::PRIMARY);
  req.set_sql(absl::StrCat("INSERT INTO chaos (id, w, v) VALUES (", id, ", -1, 'probe')"));
  auto r =
      (*client)->Call((*client)->query(), &tablet::Query::Stub::Execute, req, absl::Seconds(10));
  std::string outcome;
  if (r.ok()) {
    deposed_acks_.push_back(id);
    outcome = "ACKNOWLEDGED (a second writable primary)";
  } else if (absl::IsFailedPrecondition(r.status()) ||
             (absl::IsUnavailable(r.status()) &&
              absl::StrContains(r.status().message(), "cannot yet confirm"))) {
    // It knows it is a replica, or its primary fence held the write (and
    // rolled it back) while the topology did not answer.
    outcome = absl::StrCat("refused (", r.status().ToString(), ")");
  } else {
    // Executed (maybe committed locally) but not acknowledged: the deposed
    // primary still took writes; semi-sync kept it from acknowledging.
    deposed_executed_.push_back(id);
    outcome = absl::StrCat("EXECUTED, not acknowledged (", r.status().ToString(), ")");
  }
  absl::StrAppend(&what, "; a write sent straight to ", old_primary, " after SIGCONT: ", outcome);
  return what;
}

std::string ChaosTest::RestartEtcd() {
  EXPECT_TRUE(etcd_->Stop(0, SIGKILL).ok());
  Hold(absl::Seconds(2));
  absl::Status s = etcd_->Restart(0);  // same ports and data dir
  EXPECT_TRUE(s.ok()) << s;
  return absl::StrCat("down 2s, restarted on ", etcd_->endpoint(0));
}

void ChaosTest::MountDataDirs(int replicas) {
  for (int s = 0; s < 2; ++s) {
    for (int n = 0; n <= replicas; ++n) {
      const std::string alias = Alias(s, n);
      absl::StatusOr<std::unique_ptr<TmpfsMount>> m =
          TmpfsMount::Mount(data_dir(alias), kDataDirBytes);
      if (!m.ok()) {
        // Not permitted (or not possible) here: every replica gets the
        // approximation rather than some of them the real thing.
        data_mounts_.clear();
        std::cout << "disk-full fault mode: RLIMIT_FSIZE approximation (" << m.status().message()
                  << ")" << std::endl;
        return;
      }
      data_mounts_[alias] = *std::move(m);
    }
  }
  std::cout << "disk-full fault mode: real ENOSPC, each tablet's data dir a "
            << (kDataDirBytes >> 20) << " MiB tmpfs, filled by a filler file" << std::endl;
}

std::string ChaosTest::FillDisk(const std::string& alias, std::function<void()>* lift) {
  auto mount = data_mounts_.find(alias);
  if (mount != data_mounts_.end()) {
    TmpfsMount& m = *mount->second;
    absl::StatusOr<uint64_t> filled = m.Fill();
    EXPECT_TRUE(filled.ok()) << filled.status();
    *lift = [&m] {
      absl::Status s = m.Drain();
      EXPECT_TRUE(s.ok()) << s;
    };
    absl::StatusOr<std::pair<uint64_t, uint64_t>> usage = m.Usage();
    return absl::StrFormat("its tmpfs data dir filled to ENOSPC (%.1f MiB filler, %s)",
                           filled.ok() ? *filled / 1048576.0 : -1.0,
                           usage.ok()
                               ? absl::StrFormat("%.1f of %.1f MiB used", usage->first / 1048576.0,
                                                 usage->second / 1048576.0)
                               : usage.status().ToString());
  }
  // The soft RLIMIT_FSIZE of the running tablet goes to 0: every write to a
  // regular file fails with EFBIG (SIGXFSZ is ignored, see LaunchPrefix).
  const pid_t pid = tablets_.at(alias)->pid();
  rlimit old{};
  const bool limited = prlimit(pid, RLIMIT_FSIZE, nullptr, &old) == 0 && [&] {
    rlimit full{0, old.rlim_max};
    return prlimit(pid, RLIMIT_FSIZE, &full, nullptr) == 0;
  }();
  EXPECT_TRUE(limited) << "prlimit on " << alias << " failed: " << strerror(errno);
  *lift = [pid, old] {
    rlimit lifted{old.rlim_cur, old.rlim_max};
    EXPECT_EQ(prlimit(pid, RLIMIT_FSIZE, &lifted, nullptr), 0) << strerror(errno);
  };
  return "its RLIMIT_FSIZE lowered to 0 (EFBIG on every file write)";
}

std::string ChaosTest::ReplicaDiskFull() {
  const int shard = std::uniform_int_distribution<int>(0, 1)(rng_);
  const std::vector<std::string> replicas = Replicas(shard);
  const std::string alias =
      replicas[std::uniform_int_distribution<size_t>(0, replicas.size() - 1)(rng_)];
  Subprocess& p = *tablets_.at(alias);
  std::function<void()> lift;
  const std::string how = FillDisk(alias, &lift);
  const int64_t before = load_->acked_count();
  Hold(absl::Seconds(3));
  const int64_t during = load_->acked_count() - before;
  acks_during_disk_full_.push_back(during);
  absl::StatusOr<tablet::ReplicationStatus> rs = Replication(alias);
  std::string what =
      absl::StrCat(alias, " (replica of ", kShards[shard], "): ", how,
                   ", for 3s; meanwhile the cluster acknowledged ", during,
                   " writes; its replication then (last_error shows the failed write): ",
                   rs.ok() ? rs->ShortDebugString() : rs.status().ToString());
  lift();
  absl::StatusOr<int> exited = p.WaitFor(absl::ZeroDuration());
  if (exited.ok()) {
    // It exited rather than riding the fault out: restart it the way a
    // supervisor would, and say so (the README discusses it).
    absl::StrAppend(&what, "; it EXITED with status ", *exited, " and was restarted");
    StartTablet(alias, TabletFlags(shard));
  }
  return what;
}

}  // namespace shale::chaos
