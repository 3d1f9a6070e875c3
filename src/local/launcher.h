#pragma once

// Launcher runs a whole Shale cluster on one machine (`shale local
// up|status|down`, DESIGN §1): the topology (the embedded sqlite file, or an
// etcd / ZooKeeper server it starts), ctld, the tablets and a gateway, as
// detached `shale` processes whose pids and ports live in DIR/local.json
// (process_state.h), laid out by cluster_plan.h.
//
//   Up      starts what is not running (all of it the first time; after a
//           `down`, the same processes on the same data), creates missing
//           records, elects first primaries, and waits until every tablet
//           serves and the gateway answers. Safe to repeat.
//   Status  prints every process and its health; true when all are healthy.
//   Down    stops everything (gateway, ctld, tablets, topology server):
//           SIGTERM, then SIGKILL after a deadline. Safe to repeat.
//
// Each command holds DIR/local.lock for its run. Lifecycle: construct, call
// one command, destroy. Confined to the caller's thread; owns nothing but the
// output stream it borrows (which must outlive it).

#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "local/cluster_health.h"
#include "local/cluster_plan.h"
#include "local/process_state.h"
#include "topo/server.h"

namespace shale::local {

class Launcher {
 public:
  // shale_binary: the `shale` to start children with (normally this one,
  // /proc/self/exe). out: progress and results.
  Launcher(std::string shale_binary, std::ostream* out);

  // options.data_dir must be absolute. given: the flags the user set
  // explicitly ("shards", "replicas", "cells", "topo", "keyspace",
  // "base-port"); a recorded cluster is restarted with its own layout, and a
  // given flag that contradicts it is InvalidArgument. FailedPrecondition
  // for a port in use or another command on DIR; DeadlineExceeded when
  // something does not come up in time (the message names it and its log).
  absl::Status Up(const LocalOptions& options, const std::set<std::string>& given);

  // Prints the table of processes. True when every process runs and is
  // healthy. NotFound when DIR has no cluster.
  absl::StatusOr<bool> Status(const std::string& data_dir);

  // Stops every recorded process. OK when nothing runs any more (also when
  // nothing ran); Internal naming any process that would not die.
  absl::Status Down(const std::string& data_dir);

 private:
  // Up's steps (launcher_up.cc), in order.
  // The plan: from the recorded cluster if DIR has one, else from flags.
  absl::Status LoadPlan(const LocalOptions& flags, const std::set<std::string>& given);
  // FailedPrecondition naming the first busy port of a process to start.
  absl::Status CheckPorts() const;
  absl::StatusOr<std::unique_ptr<topo::Server>> StartTopology();
  // Starts ctld and the tablets; waits until every tablet answers.
  absl::Status StartTablets(topo::Server& ts);
  // First primaries (or a restarted shard's own), the serving graph, and
  // every tablet serving.
  absl::Status ServePrimaries(topo::Server& ts);
  // Starts the gateway; waits until it serves every tablet.
  absl::Status StartGate();
  absl::Status WaitCtldLeads();

  // Starts p (not running) and records it in state_ and local.json.
  absl::Status Start(const PlannedProcess& p);
  // The full command line of p.
  absl::StatusOr<std::vector<std::string>> CommandLine(const PlannedProcess& p);
  bool Running(const std::string& name) const;
  // Fails with p's log tail if p has exited.
  absl::Status CheckStillRunning(const PlannedProcess& p) const;
  // Waits for cond (tried every few ms) until timeout. DeadlineExceeded
  // with what and cond's last detail on timeout; Unavailable with its log
  // tail when a process of watch_ exited meanwhile.
  absl::Status WaitUntil(const std::string& what, absl::Duration timeout,
                         const std::function<bool(std::string* detail)>& cond);
  // WaitUntil every shard's health has no problem (problem returns "").
  absl::Status WaitForShards(topo::Server& ts, const std::string& what,
                             const std::function<std::string(const ShardHealth&)>& problem);
  void Say(const std::string& line);
  void PrintSummary();

  const std::string shale_binary_;
  std::ostream* const out_;
  const absl::Time started_;
  // Set by Up.
  ClusterPlan plan_;
  LocalState state_;
  std::vector<const PlannedProcess*> watch_;  // started and waited on: in plan_
};

}  // namespace shale::local
