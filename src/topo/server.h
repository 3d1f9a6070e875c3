#pragma once

// topo::Server is the typed record API over the topology service (DESIGN §2).
//
// It owns the connection to the global topology server and opens, on first
// use, the connection of each cell named by that cell's CellInfo (a cell whose
// CellInfo has no server_address lives on the global server under /<cell>).
// Its methods are grouped by record, one file each: keyspace.cc, shard.cc,
// tablet.cc, cell_info.cc, shard_replication.cc, srv_keyspace.cc, vschema.cc,
// routing_policy.cc, locks.cc, meta.cc. Read-modify-write helpers retry on a
// version conflict (Aborted) until they win or their retry budget runs out.
//
// Lifecycle: construct with the global Conn; destroy after every user.
// Thread-safe: any thread may call any method.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "topo/conn.h"
#include "topo/tablet_alias.h"
#include "topodata.pb.h"

namespace shale::topo {

// Opens a Conn for a cell's server address (e.g. OpenConn from topo/open).
using ConnOpener = std::function<absl::StatusOr<std::unique_ptr<Conn>>(absl::string_view address)>;

// A record together with the version it was read at.
template <typename Record>
struct Versioned_ {
  Record record;
  Version version = 0;
};
using KeyspaceInfo = Versioned_<topodata::Keyspace>;
using ShardInfo = Versioned_<topodata::Shard>;
using TabletInfo = Versioned_<topodata::Tablet>;
using CtldLeaderInfo = Versioned_<topodata::CtldLeader>;

// A mutation applied by the read-modify-write helpers. Returning an error
// aborts the update and is passed through to the caller.
template <typename Record>
using UpdateFn = std::function<absl::Status(Record&)>;

// A cell's connection and the path prefix of its records on it.
struct CellConn {
  Conn* conn = nullptr;  // owned by the Server
  std::string root;      // e.g. "/zone1"
};

class Server {
 public:
  // opener may be null: then every cell must live on the global server.
  // lock_ttl must match the ConnOptions::lock_ttl the Conn was opened with; it
  // is recorded in lock nodes for operators.
  explicit Server(std::unique_ptr<Conn> global, ConnOpener opener = nullptr,
                  absl::Duration lock_ttl = ConnOptions().lock_ttl);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Conn& global() { return *global_; }

  // The connection serving cell's records. NotFound if the cell has no CellInfo.
  absl::StatusOr<CellConn> ForCell(absl::string_view cell);

  // ---- keyspace.cc: /global/keyspaces/<ks>/Keyspace
  // AlreadyExists; InvalidArgument for a bad name.
  absl::Status CreateKeyspace(absl::string_view keyspace, const topodata::Keyspace& record);
  // NotFound naming the keyspace.
  absl::StatusOr<KeyspaceInfo> GetKeyspace(absl::string_view keyspace);
  absl::StatusOr<topodata::Keyspace> UpdateKeyspaceFields(absl::string_view keyspace,
                                                          const UpdateFn<topodata::Keyspace>& fn);
  absl::StatusOr<std::vector<std::string>> ListKeyspaces();
  // Deletes the keyspace record and its VSchema and locks. FailedPrecondition
  // if it still has shards and !recursive; with recursive, also every shard and
  // every cell's SrvKeyspace and ShardReplication of the keyspace.
  absl::Status DeleteKeyspace(absl::string_view keyspace, bool recursive);

  // ---- shard.cc: /global/keyspaces/<ks>/shards/<shard>/Shard
  // Creates the shard with its key range parsed from the name, serving every
  // tablet type; a shard whose range overlaps an existing shard's is a
  // resharding target and serves none (SwitchTraffic changes that).
  // NotFound for an unknown keyspace; InvalidArgument for a bad shard name.
  absl::Status CreateShard(absl::string_view keyspace, absl::string_view shard);
  absl::StatusOr<ShardInfo> GetShard(absl::string_view keyspace, absl::string_view shard);
  absl::StatusOr<topodata::Shard> UpdateShardFields(absl::string_view keyspace,
                                                    absl::string_view shard,
                                                    const UpdateFn<topodata::Shard>& fn);
  // Shard names of the keyspace, sorted by key range. NotFound for an unknown keyspace.
  absl::StatusOr<std::vector<std::string>> ListShards(absl::string_view keyspace);
  absl::Status DeleteShard(absl::string_view keyspace, absl::string_view shard);

  // ---- tablet.cc: /<cell>/tablets/<cell>-<uid>/Tablet
  absl::Status CreateTablet(const topodata::Tablet& tablet);
  absl::StatusOr<TabletInfo> GetTablet(const TabletAlias& alias);
  absl::StatusOr<topodata::Tablet> UpdateTabletFields(const TabletAlias& alias,
                                                      const UpdateFn<topodata::Tablet>& fn);
  // Writes the whole record unconditionally (the owning tablet's own writes).
  absl::Status PutTablet(const topodata::Tablet& tablet);
  absl::Status DeleteTablet(const TabletAlias& alias);
  // Aliases of the tablets in a cell, sorted. Empty when the cell has none.
  absl::StatusOr<std::vector<TabletAlias>> ListTabletAliases(absl::string_view cell);

  // ---- shard_replication.cc: /<cell>/keyspaces/<ks>/shards/<shard>/ShardReplication
  absl::StatusOr<topodata::ShardReplication> GetShardReplication(absl::string_view cell,
                                                                 absl::string_view keyspace,
                                                                 absl::string_view shard);
  // Adds (or with remove=true, removes) one tablet; creates the record if needed.
  absl::Status UpdateShardReplication(absl::string_view cell, absl::string_view keyspace,
                                      absl::string_view shard, const TabletAlias& alias,
                                      bool remove);

  // ---- cell_info.cc: /global/cells/<cell>/CellInfo
  absl::Status AddCellInfo(absl::string_view cell, const topodata::CellInfo& info);
  absl::StatusOr<topodata::CellInfo> GetCellInfo(absl::string_view cell);
  absl::StatusOr<std::vector<std::string>> ListCells();
  absl::Status DeleteCellInfo(absl::string_view cell);

  // ---- srv_keyspace.cc: /<cell>/keyspaces/<ks>/SrvKeyspace
  absl::StatusOr<topodata::SrvKeyspace> GetSrvKeyspace(absl::string_view cell,
                                                       absl::string_view keyspace);
  absl::Status PutSrvKeyspace(absl::string_view cell, absl::string_view keyspace,
                              const topodata::SrvKeyspace& record);
  absl::Status DeleteSrvKeyspace(absl::string_view cell, absl::string_view keyspace);

  // ---- vschema.cc: /global/keyspaces/<ks>/VSchema
  // An empty VSchema when none was saved yet; NotFound for an unknown keyspace.
  absl::StatusOr<topodata::VSchema> GetVSchema(absl::string_view keyspace);
  absl::Status SaveVSchema(absl::string_view keyspace, const topodata::VSchema& record);

  // ---- routing_policy.cc: /global/RoutingPolicy
  // The stored policy, or DefaultRoutingPolicy() when none is stored.
  absl::StatusOr<topodata::RoutingPolicy> GetRoutingPolicy();
  // InvalidArgument for a policy without rules or with a negative lag.
  absl::Status SetRoutingPolicy(const topodata::RoutingPolicy& policy);

  // ---- locks.cc: keyspace and shard locks, recording holder, reason and lease.
  // DeadlineExceeded when the lock is not free within timeout; NotFound for an
  // unknown keyspace or shard.
  absl::StatusOr<std::unique_ptr<LockHandle>> LockKeyspace(absl::string_view keyspace,
                                                           absl::string_view reason,
                                                           absl::Duration timeout);
  absl::StatusOr<std::unique_ptr<LockHandle>> LockShard(absl::string_view keyspace,
                                                        absl::string_view shard,
                                                        absl::string_view reason,
                                                        absl::Duration timeout);
  // The ctld leadership lock (of /global/ctld): its holder is the leading ctld.
  // DeadlineExceeded when another ctld holds it for longer than timeout.
  absl::StatusOr<std::unique_ptr<LockHandle>> LockCtldLeadership(absl::string_view reason,
                                                                 absl::Duration timeout);

  // ---- ctld_leader.cc: /global/ctld/CtldLeader
  // NotFound when no ctld was ever elected.
  absl::StatusOr<CtldLeaderInfo> GetCtldLeader();
  // Writes the record: with expected, only if it is still at that version
  // (Aborted otherwise, NotFound if gone); without, unconditionally. Returns
  // the new version. Only the holder of LockCtldLeadership writes it.
  absl::StatusOr<Version> PutCtldLeader(const topodata::CtldLeader& record,
                                        std::optional<Version> expected);

  // ---- meta.cc: /global/meta/next_table_id
  // Allocates a cluster-wide unique table id (1, 2, 3, ...), never reused.
  absl::StatusOr<int64_t> AllocateTableId();

 private:
  const std::unique_ptr<Conn> global_;
  const ConnOpener opener_;
  const absl::Duration lock_ttl_;
  absl::Mutex mu_;
  // mu_ protects the following.
  std::map<std::string, std::unique_ptr<Conn>, std::less<>> cell_conns_ ABSL_GUARDED_BY(mu_);
};

// Checks a keyspace or cell name: 1-64 characters of [A-Za-z0-9_], starting with a letter.
absl::Status ValidateName(absl::string_view kind, absl::string_view name);

// The default routing policy of the routing seed: local cell if at least 2
// tablets lag under 30s; else same-region cells; else local under 2h; never above 2h.
topodata::RoutingPolicy DefaultRoutingPolicy();

}  // namespace shale::topo
