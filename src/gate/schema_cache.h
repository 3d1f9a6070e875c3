#pragma once

// SchemaCache serves KeyspaceSchema snapshots (keyspace_schema.h) to the
// planner from memory: each keyspace's VSchema is watched from its first use
// (discovery::RecordWatch), and its SrvKeyspace comes from the gateway's
// SrvKeyspaceWatcher for the gateway's cell. Nothing is read per statement.
//
// Owned by the Gateway; borrows the topo::Server and the watcher, which
// must outlive it. Thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "discovery/record_watch.h"
#include "discovery/srv_keyspace_watcher.h"
#include "gate/keyspace_schema.h"
#include "topo/server.h"

namespace shale::gate {

class SchemaCache {
 public:
  SchemaCache(topo::Server* ts, discovery::SrvKeyspaceWatcher* serving, std::string cell);
  ~SchemaCache();

  // The keyspace's schema in cell (the gateway's cell by default). NotFound
  // (3D000) for a keyspace the cell does not serve; Unavailable while the
  // topology cannot be reached for a first look.
  absl::StatusOr<KeyspaceSchema> Get(absl::string_view keyspace);
  absl::StatusOr<KeyspaceSchema> Get(absl::string_view keyspace, absl::string_view cell);

  // Waits until the keyspace's watched VSchema satisfies done (e.g. after a
  // schema change this gateway asked ctld for). False on timeout.
  bool WaitForVSchema(const std::string& keyspace,
                      const std::function<bool(const topodata::VSchema&)>& done,
                      absl::Duration timeout);

  // Waits until the keyspace's SrvKeyspace in the gateway's cell is no longer
  // `seen` (the one a statement was planned with), woken by the serving
  // graph's change notification. False at the deadline.
  bool WaitForSrvKeyspaceChange(const std::string& keyspace, const topodata::SrvKeyspace* seen,
                                absl::Time deadline);

 private:
  struct Entry {
    std::unique_ptr<discovery::RecordWatch> watch;
    std::shared_ptr<const topodata::VSchema> vschema;
  };
  absl::StatusOr<std::shared_ptr<const topodata::VSchema>> VSchema(const std::string& keyspace);
  void Reload(const std::string& keyspace);

  topo::Server* const ts_;
  discovery::SrvKeyspaceWatcher* const serving_;
  const std::string cell_;
  absl::Mutex start_mu_;  // serialises watch starts
  absl::Mutex mu_;
  // mu_ protects the following.
  std::map<std::string, Entry, std::less<>> keyspaces_ ABSL_GUARDED_BY(mu_);
  int64_t serving_changes_ ABSL_GUARDED_BY(mu_) = 0;  // SrvKeyspace change notifications
  int serving_subscription_ = -1;
};

}  // namespace shale::gate
