#pragma once

// The state file of a local cluster, DIR/local.json: the flags it was
// created with (so a later `up` restarts the same layout) and the pid, ports
// and log of every process started, so `status` and `down` find them. Written
// by `shale local up` after each start (atomically: a temp file renamed over
// the old one), read by every `shale local` command. Value types;
// thread-compatible.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "local/cluster_plan.h"

namespace shale::local {

// One started process as recorded.
struct ProcessRecord {
  std::string name;
  std::string kind;
  pid_t pid = 0;
  std::vector<std::string> argv;
  std::map<std::string, int> ports;
  std::string log;
};

struct LocalState {
  LocalOptions options;
  std::string topo_address;
  std::vector<ProcessRecord> processes;

  // The record of name, or null.
  const ProcessRecord* Find(const std::string& name) const;
  // Adds or replaces the record of p.name.
  void Put(ProcessRecord p);
};

// DIR/local.json.
std::string StatePath(const std::string& data_dir);

// NotFound when the file does not exist; DataLoss naming the file when it
// cannot be parsed.
absl::StatusOr<LocalState> ReadState(const std::string& data_dir);

// Writes DIR/local.json atomically. Internal naming the file on an I/O error.
absl::Status WriteState(const std::string& data_dir, const LocalState& state);

}  // namespace shale::local
