// topo::Server methods for the VSchema (catalog) record.
#include "base/status_macros.h"
#include "topo/paths.h"
#include "topo/records.h"
#include "topo/server.h"

namespace shale::topo {

absl::StatusOr<topodata::VSchema> Server::GetVSchema(absl::string_view keyspace) {
  RETURN_IF_ERROR(GetKeyspace(keyspace).status());
  auto r = GetRecord<topodata::VSchema>(*global_, paths::VSchema(keyspace));
  if (absl::IsNotFound(r.status())) return topodata::VSchema();
  return r;
}

absl::Status Server::SaveVSchema(absl::string_view keyspace, const topodata::VSchema& record) {
  RETURN_IF_ERROR(GetKeyspace(keyspace).status());
  return PutRecord(*global_, paths::VSchema(keyspace), record);
}

}  // namespace shale::topo
