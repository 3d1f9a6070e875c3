#pragma once

// Where each record lives (DESIGN §2; docs/topology.md). Global records are
// under /global on the global server; a cell's records are under the cell's
// root (by default /<cell>) on the cell's server.

#include <string>
#include "absl/strings/string_view.h"

#include "absl/strings/str_cat.h"

namespace shale::topo::paths {

inline constexpr absl::string_view kGlobal = "/global";

inline std::string KeyspacesDir() { return "/global/keyspaces"; }
inline std::string KeyspaceDir(absl::string_view ks) { return absl::StrCat(KeyspacesDir(), "/", ks); }
inline std::string Keyspace(absl::string_view ks) { return absl::StrCat(KeyspaceDir(ks), "/Keyspace"); }
inline std::string VSchema(absl::string_view ks) { return absl::StrCat(KeyspaceDir(ks), "/VSchema"); }
inline std::string ShardsDir(absl::string_view ks) { return absl::StrCat(KeyspaceDir(ks), "/shards"); }
inline std::string ShardDir(absl::string_view ks, absl::string_view shard) {
  return absl::StrCat(ShardsDir(ks), "/", shard);
}
inline std::string Shard(absl::string_view ks, absl::string_view shard) {
  return absl::StrCat(ShardDir(ks, shard), "/Shard");
}
inline std::string CellsDir() { return "/global/cells"; }
inline std::string CellInfo(absl::string_view cell) {
  return absl::StrCat(CellsDir(), "/", cell, "/CellInfo");
}
inline std::string RoutingPolicy() { return "/global/RoutingPolicy"; }
inline std::string NextTableId() { return "/global/meta/next_table_id"; }
// ctld leadership: the election lock lives below CtldDir()/locks/.
inline std::string CtldDir() { return "/global/ctld"; }
inline std::string CtldLeader() { return "/global/ctld/CtldLeader"; }

// Cell-relative paths; root is the cell's root, e.g. "/zone1".
inline std::string TabletsDir(absl::string_view root) { return absl::StrCat(root, "/tablets"); }
inline std::string Tablet(absl::string_view root, absl::string_view alias) {
  return absl::StrCat(TabletsDir(root), "/", alias, "/Tablet");
}
inline std::string CellKeyspaceDir(absl::string_view root, absl::string_view ks) {
  return absl::StrCat(root, "/keyspaces/", ks);
}
inline std::string SrvKeyspace(absl::string_view root, absl::string_view ks) {
  return absl::StrCat(CellKeyspaceDir(root, ks), "/SrvKeyspace");
}
inline std::string ShardReplication(absl::string_view root, absl::string_view ks,
                                    absl::string_view shard) {
  return absl::StrCat(CellKeyspaceDir(root, ks), "/shards/", shard, "/ShardReplication");
}

}  // namespace shale::topo::paths
