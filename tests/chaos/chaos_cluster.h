#pragma once

// ChaosTest: the chaos suite's fixture. A real etcd (started by the test on
// free loopback ports) holds the topology; on it run ctld, one gateway and
// keyspace `app` over shards -80 and 80-, each a primary and two replicas
// under semi_sync (GateE2eTest's cluster, tests/e2e/gate_fixture.h). Each
// tablet's data dir is a small tmpfs of its own (tmpfs_mount.h), which the
// "disk full" fault fills (chaos_faults.cc); where mounting is not
// permitted, that fault lowers the replica's file-size limit instead, so
// every process ignores SIGXFSZ. Every process logs to LogDir()/NAME.log.
// The fixture injects faults one at a time, waits until the cluster is
// healthy again, and checks the end state (chaos_cluster.cc: health,
// convergence, checksums).
//
// Confined to the test thread, except for load_ and sampler_, which run
// their own threads. TearDown stops the load, then every process, then
// unmounts the data dirs, then stops etcd; the temp dirs go with the
// fixture, also when the test fails.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tablet/client/tablet_client.h"
#include "tests/chaos/chaos_load.h"
#include "tests/chaos/fault_schedule.h"
#include "tests/chaos/invariants.h"
#include "tests/chaos/primary_sampler.h"
#include "tests/chaos/tmpfs_mount.h"
#include "tests/e2e/gate_fixture.h"
#include "topo/etcd/etcd_test_server.h"

namespace shale::chaos {

class ChaosTest : public e2e::GateE2eTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string topo() const override;
  std::vector<std::string> LaunchPrefix(const std::string& name) const override;
  std::string LogDir() const;

  // ---- the cluster's state (chaos_cluster.cc)

  // The shard's primary by its Shard record; "" when there is none or the
  // topology does not answer.
  std::string ShardPrimary(int shard);
  // The shard's tablets other than ShardPrimary(shard).
  std::vector<std::string> Replicas(int shard);
  absl::StatusOr<std::unique_ptr<tablet::TabletClient>> Dial(const std::string& alias);
  std::optional<tablet::TabletState> State(const std::string& alias);
  absl::StatusOr<tablet::ReplicationStatus> Replication(const std::string& alias);
  absl::StatusOr<tablet::QueryResult> Dba(const std::string& alias, const std::string& sql);
  // "" when every shard has its recorded primary serving writes, every
  // replica serving and streaming from it, the gateway serving all six
  // tablets and ctld leading; otherwise the first thing that is not so.
  std::string Unhealthy();
  // Waits until Unhealthy() is "" and then the writers acknowledge 10 more
  // writes. False on timeout, with the last reason in *why.
  bool WaitHealthy(absl::Duration timeout, std::string* why);
  // Waits until every replica of the shard has applied the primary's newest
  // log entry (its seq and term). False on timeout, with the reason in *why.
  bool WaitCaughtUp(int shard, absl::Duration timeout, std::string* why);
  // Prints each tablet's checksum (tests/e2e/table_checksum.h) and whether
  // its database passes PRAGMA integrity_check; fails the test where a
  // replica differs from its primary or a check fails.
  void CheckReplicasEqualPrimaries();

  // ---- faults (chaos_faults.cc)

  // Injects one fault (and lifts it or restarts what it killed), then waits
  // until the cluster is healthy again; records the window in windows_.
  // False if it did not recover in time (the test stops injecting).
  bool InjectAndRecover(FaultKind kind, int number);
  std::string KillTablet();
  std::string KillGate();
  std::string KillCtld();
  std::string StopPrimary();
  std::string RestartEtcd();
  std::string ReplicaDiskFull();
  // Makes the tablet's disk full: fills its tmpfs, or (without one) lowers
  // its RLIMIT_FSIZE to 0. Returns what it did and sets *lift to undo it.
  std::string FillDisk(const std::string& alias, std::function<void()>* lift);
  // Mounts a tmpfs on the data dir of every tablet (each shard's primary and
  // replicas: any of them may be a replica when the disk-full fault comes),
  // before they start, and prints which mode the disk-full fault uses.
  void MountDataDirs(int replicas);
  // Seconds since the load started, for the fault log.
  std::string Elapsed() const;

  static std::vector<std::string> TabletFlags(int shard);
  static const std::vector<std::string>& CtldFlags();

  std::unique_ptr<topo::EtcdTestServer> etcd_;
  std::mt19937_64 rng_;
  uint64_t seed_ = 0;
  absl::Time load_start_ = absl::InfinitePast();
  std::unique_ptr<ChaosLoad> load_;
  std::unique_ptr<PrimarySampler> sampler_;

  std::vector<FaultWindow> windows_;
  std::vector<std::string> fault_log_;  // one line per fault, printed at the end
  // Ids a deposed primary acknowledged when written to directly after SIGCONT
  // (each one is a write accepted by a second writable primary).
  std::vector<int64_t> deposed_acks_;
  // Ids a deposed primary executed but did not acknowledge (an error other
  // than FAILED_PRECONDITION: e.g. semi-sync's 40003 after a local commit).
  std::vector<int64_t> deposed_executed_;
  int deposed_probes_ = 0;
  // Writes the primaries acknowledged while one of their replicas had a full disk.
  std::vector<int64_t> acks_during_disk_full_;
  // The tablets' data dirs by alias; empty in the RLIMIT_FSIZE mode.
  std::map<std::string, std::unique_ptr<TmpfsMount>> data_mounts_;
};

}  // namespace shale::chaos
