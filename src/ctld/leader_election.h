#pragma once

// LeaderElection: which of several `shale ctld` processes on one topology
// leads (issue 7; DESIGN §6). Exactly one ctld acts (failover, later DDL);
// the others stand by and take over when it dies.
//
// The leader is whoever holds the topology lock of /global/ctld
// (topo::Server::LockCtldLeadership). A standby keeps asking for the lock,
// each attempt waiting up to options.lock_attempt, so it takes over as soon
// as the leader unlocks, or, when the leader died, once its lease ran out
// (ConnOptions::lock_ttl, 10 s by default). On winning, it writes the leader
// record /global/ctld/CtldLeader (holder, gRPC and HTTP addresses, elected
// time, term = previous term + 1), then calls on_gained. While leading it
// checks the lock every options.check_interval; once LockHandle::Check()
// fails (lease lost, lock node gone, topology unreachable), IsLeader() turns
// false at once, on_lost is called, and it goes back to standing by. Stop()
// steps down cleanly: on_lost, the record marked resigned, the lock released.
//
// Lifecycle: construct, Start(), Stop() (idempotent; the destructor calls
// it). Owned by ctld's main; the topo::Server and the metrics registry are
// borrowed and must outlive it. Threads: one election thread of its own,
// which makes every topology call of the election and runs on_gained and
// on_lost (one at a time, always alternating, starting with on_gained);
// IsLeader(), CurrentLeader() and the status methods may be called from any
// thread.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/metrics/registry.h"
#include "nlohmann/json.hpp"
#include "topo/server.h"

namespace shale::ctld {

// Who leads, as the leader record says.
struct LeaderInfo {
  std::string holder;        // host:pid
  std::string grpc_address;  // host:port; "" when the leader serves no gRPC
  std::string http_address;  // host:port of its status port and dashboard
  absl::Time elected_at = absl::InfinitePast();
  int64_t term = 0;

  static LeaderInfo FromRecord(const topodata::CtldLeader& record);
  nlohmann::json ToJson() const;
};

struct LeaderElectionOptions {
  // This process's name in the lock and the record; empty: "host:pid".
  std::string holder;
  // Published in the leader record (or set later with SetAddresses).
  std::string grpc_address;
  std::string http_address;
  // How long one lock attempt waits; Stop() may take this long.
  absl::Duration lock_attempt = absl::Seconds(1);
  // How often the leader checks that it still holds the lock.
  absl::Duration check_interval = absl::Milliseconds(250);
  // Pause after a failed attempt that was not a timeout (topology down).
  absl::Duration retry_pause = absl::Milliseconds(500);
  // Called on the election thread once this process leads, after the record
  // was written.
  std::function<void(const LeaderInfo&)> on_gained;
  // Called on the election thread once it no longer leads (lock lost, or
  // Stop), with the reason; IsLeader() is already false. Must stop
  // everything only the leader may do before returning.
  std::function<void(const absl::Status&)> on_lost;
  // Borrowed; may be null. Adds shale_ctld_is_leader and
  // shale_ctld_leadership_changes_total{change="gained"|"lost"}.
  metrics::MetricsRegistry* metrics = nullptr;
};

class LeaderElection {
 public:
  // ts is borrowed and must outlive the election.
  LeaderElection(topo::Server* ts, LeaderElectionOptions options);
  ~LeaderElection();
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  // The addresses the leader record will publish, for a process that learns
  // its ports after constructing the election. Call before Start().
  void SetAddresses(std::string grpc_address, std::string http_address);
  // Starts the election thread. FailedPrecondition if started before.
  absl::Status Start();
  // Steps down if leading (on_lost, then the record is marked resigned and
  // the lock released) and joins the thread.
  void Stop();

  bool IsLeader() const { return is_leader_.load(std::memory_order_acquire); }
  const std::string& holder() const { return holder_; }
  // The term this process leads in; 0 while standing by.
  int64_t term() const;
  // Times leadership was gained or lost by this process.
  int64_t changes() const;

  // The leader as the topology says (one read). NotFound when no ctld leads:
  // none was ever elected, or the last one stepped down; Unavailable when
  // the topology cannot be read. After a leader crashed, its record is
  // returned until a standby takes over.
  absl::StatusOr<LeaderInfo> CurrentLeader();

  // {"holder", "is_leader", "term", "changes", "attempts" (lock attempts
  // made), "last_loss", "last_error", "grpc_address", "http_address"}: this
  // process's side (no topology read).
  nlohmann::json StatusJson() const;
  // The /debug/status section: this process's side and the current leader.
  std::string StatusHtml();

 private:
  void Loop();
  // Tries once to take the lock and publish the record; true if leading now.
  bool TryToLead();
  // Leads until the lock is lost or Stop; then steps down.
  void Lead();
  // Clears leadership, calls on_lost, marks the record resigned if it still
  // names us, and drops the lock.
  void StepDown(const absl::Status& why);
  // Waits up to d or until Stop; true if stopping.
  bool WaitStop(absl::Duration d);

  topo::Server* const ts_;
  const LeaderElectionOptions options_;
  const std::string holder_;
  metrics::Gauge* is_leader_gauge_ = nullptr;
  metrics::CounterFamily* changes_family_ = nullptr;
  std::atomic<bool> is_leader_{false};
  std::thread thread_;

  // Election thread only.
  std::unique_ptr<topo::LockHandle> lock_;
  topo::Version record_version_ = 0;
  topodata::CtldLeader record_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t term_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t attempts_ ABSL_GUARDED_BY(mu_) = 0;  // lock attempts made
  std::string last_loss_ ABSL_GUARDED_BY(mu_);  // why leadership was last lost
  std::string last_error_ ABSL_GUARDED_BY(mu_);  // last failed attempt to lead
  std::string grpc_address_ ABSL_GUARDED_BY(mu_);
  std::string http_address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::ctld
