#pragma once

// ctld's dashboard, the operator's window (issue 7): a page at / on ctld's
// HTTP port whose script fetches /api/cluster every second and re-renders,
// so it updates live without a reload. It shows keyspaces and shards, each
// shard's primary and term, each tablet's type, health, replication lag and
// log position, recent primary changes and failovers, and which ctld leads.
// Standby ctlds serve it too (from the topology); only the leader keeps the
// failover history, and the page links to the leader's dashboard.
//
// BuildClusterJson renders a ClusterView as the /api/cluster document (pure;
// unit-tested). DashboardPageHtml is the page: self-contained HTML, CSS and
// JS (no external resources), in dashboard_page.cc.

#include <string>

#include "absl/status/status.h"
#include "base/http/status_server.h"
#include "ctld/cluster_view.h"
#include "ctld/cluster_watcher.h"
#include "ctld/leader_election.h"
#include "ctld/reparent_history.h"
#include "nlohmann/json.hpp"

namespace shale::ctld {

// The /api/cluster document:
//   {"generated_at", "topology_error",
//    "ctld": {"holder", "is_leader"},
//    "leader": {"holder", "grpc_address", "http_address", "elected_at", "term",
//               "resigned"} or null,
//    "keyspaces": [{"name", "sharding_column", "durability",
//                   "shards": [{"name", "primary", "term", "term_start",
//                               "tablets": [TABLET...]}]}],
//    "other_tablets": [TABLET...],   // of a keyspace or shard not in the topology
//    "primary_changes": [{"time", "keyspace", "shard", "old_primary",
//                         "old_term", "new_primary", "new_term"}],
//    "failovers": [ReparentEvent::ToJson()...], "failovers_kept": bool}
// TABLET: {"alias", "type", "status" ("serving", "not serving", "unreachable"),
//          "serving", "is_primary", "lag_seconds", "log_position",
//          "primary_term", "health_error", "last_error", "address",
//          "last_message"}.
// Shards are ordered by key range, tablets primary first, then by alias.
nlohmann::json BuildClusterJson(const ClusterView& view);

// The page served at /.
const char* DashboardPageHtml();

// Serves the dashboard from a ClusterWatcher, plus the leadership and the
// failover history. Lifecycle: construct, Register() once on the status
// server; every pointer is borrowed and must outlive the server's Stop().
// Thread-safe: the handlers run on the HTTP workers.
class Dashboard {
 public:
  // election and failovers may be null (no leadership / no history shown).
  Dashboard(ClusterWatcher* cluster, LeaderElection* election, const ReparentHistory* failovers);

  // Serves / (the page) and /api/cluster (JSON). AlreadyExists if
  // /api/cluster is taken.
  absl::Status Register(http::StatusServer& server);

  // The full view: the watcher's plus leadership and failovers.
  ClusterView View() const;

 private:
  ClusterWatcher* const cluster_;
  LeaderElection* const election_;
  const ReparentHistory* const failovers_;
};

}  // namespace shale::ctld
