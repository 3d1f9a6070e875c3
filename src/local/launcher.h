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

#include <ostream>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "local/cluster_plan.h"
#include "local/process_state.h"

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
  // Starts p (not running) and records it in state_ and local.json.
  absl::Status Start(const PlannedProcess& p);
  // The full command line of p.
  absl::StatusOr<std::vector<std::string>> CommandLine(const PlannedProcess& p);
  bool Running(const std::string& name) const;
  // Fails with p's log tail if p has exited.
  absl::Status CheckStillRunning(const PlannedProcess& p) const;
  // Waits for cond (tried every few ms) until timeout; DeadlineExceeded
  // with what and the last detail on timeout, or the error of a process in
  // watch that exited.
  absl::Status WaitUntil(const std::string& what, absl::Duration timeout,
                         const std::vector<const PlannedProcess*>& watch,
                         const std::function<bool(std::string* detail)>& cond);
  void Say(const std::string& line);
  void PrintSummary();

  const std::string shale_binary_;
  std::ostream* const out_;
  const absl::Time started_;
  // Set by Up.
  ClusterPlan plan_;
  LocalState state_;
};

}  // namespace shale::local
