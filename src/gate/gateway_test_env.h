#pragma once

// Helpers for the gateway's in-process tests (gateway_test.cc): a memory
// topology with cell zone1, keyspace `app` hash-sharded by column `id`
// (UINT64) over shards -80 and 80-, each with a primary and a replica that
// are real tablets (tablet::TabletServer over loopback gRPC), the serving
// graph, and a Gateway in front of them. Tests talk to the gateway through
// GateSessions (or Gate.Execute over gRPC).
//
// Tablets: shard i (0: -80, 1: 80-) has uids 100 * (i + 1) + n; n = 0 starts
// as PRIMARY, the others as REPLICA.
//
// Lifecycle: the destructor stops the gateway, then the tablets, then removes
// the temp dir. StartTablet may be called from any thread (a test starts one
// in the background during a topology outage); the rest is for the test
// thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gate/gate_session.h"
#include "gate/gateway.h"
#include "tablet/tablet_server.h"
#include "tablet/test_topo.h"
#include "topo/memory/memory_server.h"
#include "topo/server.h"

namespace shale::gate {

// How long tests wait for a state that should come within about a second.
inline constexpr absl::Duration kWait = absl::Seconds(10);
// How often the tablets of these tests send health messages.
inline constexpr absl::Duration kHealthInterval = absl::Milliseconds(100);

inline constexpr const char* kShards[] = {"-80", "80-"};

// Polls cond every few milliseconds until it holds or timeout passes.
bool WaitUntil(const std::function<bool()>& cond, absl::Duration timeout = kWait);

// The shard index (0: -80, 1: 80-) that owns the row with this id.
int ShardOfId(int64_t id);
// The first n ids (counting from `from`) whose rows live on shard index s.
std::vector<int64_t> IdsOnShard(int s, int n, int64_t from = 1);

// The uid of tablet n of shard index s (n = 0: the initial primary).
inline uint32_t TabletUid(int s, int n) { return static_cast<uint32_t>(100 * (s + 1) + n); }

// Runs one statement through session: its rows, or the error.
absl::StatusOr<tablet::QueryResult> RunSql(GateSession& session, absl::string_view sql);
// Runs a statement whose result is one integer (count(*), sum(...)).
absl::StatusOr<int64_t> RunSqlInt(GateSession& session, absl::string_view sql);

class GateTestCluster {
 public:
  GateTestCluster();
  ~GateTestCluster();
  GateTestCluster(const GateTestCluster&) = delete;
  GateTestCluster& operator=(const GateTestCluster&) = delete;

  // Creates keyspace app and its shards, starts a primary and `replicas`
  // replicas per shard, and publishes the serving graph.
  absl::Status StartTablets(int replicas = 1);
  // Starts tablet uid of keyspace/shard (app by default). Blocks while the
  // topology is down (up to the tablet's topo_wait of 30 s).
  absl::StatusOr<tablet::TabletServer*> StartTablet(uint32_t uid, const std::string& shard,
                                                    topodata::TabletType type,
                                                    const std::string& keyspace = "app");
  // Starts the gateway (cell zone1, free ports, no HTTP unless asked) and
  // waits until it serves every running tablet. DeadlineExceeded if not.
  absl::Status StartGateway(GatewayOptions options = DefaultOptions());
  static GatewayOptions DefaultOptions();

  // Whether the gateway's health check has tablet uid SERVING.
  bool Serving(uint32_t uid);
  int ServingTablets();

  // A session on the gateway for a database name ("app", "app@replica"),
  // which must parse (ParseTarget).
  std::unique_ptr<GateSession> Session(absl::string_view database);

  // Waits until every replica holds its shard primary's newest log entry.
  absl::Status WaitReplicasCaughtUp();

  // Runs a schema statement on every shard's first tablet (the primary the
  // cluster starts with) over the tablet's Query service: in production
  // schema changes come from ctld, which this in-process cluster lacks.
  absl::Status ExecOnPrimaries(const std::string& sql);

  // An integer read straight from tablet uid's database, bypassing the gateway.
  absl::StatusOr<int64_t> TabletInt(uint32_t uid, const std::string& sql);

  // Tablet uid (which must be running).
  tablet::TabletServer& tablet(uint32_t uid);
  Gateway& gateway() { return *gateway_; }
  topo::MemoryServer& memory() { return memory_; }
  topo::Server& ts() { return ts_; }

 private:
  topo::MemoryServer memory_;
  topo::Server ts_;
  tablet::TestDir dir_;
  absl::Mutex mu_;
  std::map<uint32_t, std::unique_ptr<tablet::TabletServer>> tablets_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Gateway> gateway_;
};

}  // namespace shale::gate
