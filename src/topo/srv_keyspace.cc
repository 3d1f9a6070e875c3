// topo::Server methods for the per-cell SrvKeyspace (serving graph) record.
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/paths.h"
#include "topo/records.h"
#include "topo/server.h"

namespace shale::topo {

absl::StatusOr<topodata::SrvKeyspace> Server::GetSrvKeyspace(absl::string_view cell,
                                                             absl::string_view keyspace) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  ASSIGN_OR_RETURN(CellConn cc, ForCell(cell));
  auto r = GetRecord<topodata::SrvKeyspace>(*cc.conn, paths::SrvKeyspace(cc.root, keyspace));
  if (absl::IsNotFound(r.status())) {
    return absl::NotFoundError(absl::StrCat("no SrvKeyspace for ", keyspace, " in cell ", cell,
                                            " (run RebuildKeyspaceGraph ", keyspace, ")"));
  }
  return r;
}

absl::Status Server::PutSrvKeyspace(absl::string_view cell, absl::string_view keyspace,
                                    const topodata::SrvKeyspace& record) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  ASSIGN_OR_RETURN(CellConn cc, ForCell(cell));
  return PutRecord(*cc.conn, paths::SrvKeyspace(cc.root, keyspace), record);
}

absl::Status Server::DeleteSrvKeyspace(absl::string_view cell, absl::string_view keyspace) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  ASSIGN_OR_RETURN(CellConn cc, ForCell(cell));
  absl::Status s = cc.conn->Delete(paths::SrvKeyspace(cc.root, keyspace), std::nullopt);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

}  // namespace shale::topo
