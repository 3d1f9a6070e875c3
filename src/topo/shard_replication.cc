// topo::Server methods for the per-cell ShardReplication record.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/paths.h"
#include "topo/records.h"
#include "topo/server.h"

namespace shale::topo {

absl::StatusOr<topodata::ShardReplication> Server::GetShardReplication(absl::string_view cell,
                                                                       absl::string_view keyspace,
                                                                       absl::string_view shard) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  ASSIGN_OR_RETURN(CellConn cc, ForCell(cell));
  auto r = GetRecord<topodata::ShardReplication>(
      *cc.conn, paths::ShardReplication(cc.root, keyspace, shard));
  if (absl::IsNotFound(r.status())) {
    return absl::NotFoundError(absl::StrCat("no ShardReplication for ", keyspace, "/", shard,
                                            " in cell ", cell));
  }
  return r;
}

absl::Status Server::UpdateShardReplication(absl::string_view cell, absl::string_view keyspace,
                                            absl::string_view shard, const TabletAlias& alias,
                                            bool remove) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  ASSIGN_OR_RETURN(CellConn cc, ForCell(cell));
  std::string path = paths::ShardReplication(cc.root, keyspace, shard);
  return UpsertRecord<topodata::ShardReplication>(
             *cc.conn, path,
             [&](topodata::ShardReplication& r) {
               auto* nodes = r.mutable_nodes();
               auto it = std::find_if(nodes->begin(), nodes->end(), [&](const auto& n) {
                 return TabletAlias::FromProto(n.tablet_alias()) == alias;
               });
               if (remove && it != nodes->end()) nodes->erase(it);
               if (!remove && it == nodes->end()) *r.add_nodes()->mutable_tablet_alias() = alias.ToProto();
               return absl::OkStatus();
             })
      .status();
}

}  // namespace shale::topo
