// topo::Server methods for the Keyspace record.
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/paths.h"
#include "topo/records.h"
#include "topo/server.h"

namespace shale::topo {
namespace {

absl::Status KeyspaceNotFound(absl::string_view keyspace) {
  return absl::NotFoundError(absl::StrCat("keyspace ", keyspace, " not found"));
}

}  // namespace

absl::Status Server::CreateKeyspace(absl::string_view keyspace, const topodata::Keyspace& record) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  absl::Status s = CreateRecord(*global_, paths::Keyspace(keyspace), record);
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(absl::StrCat("keyspace ", keyspace, " already exists"));
  }
  return s;
}

absl::StatusOr<KeyspaceInfo> Server::GetKeyspace(absl::string_view keyspace) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  KeyspaceInfo info;
  absl::StatusOr<topodata::Keyspace> r =
      GetRecord<topodata::Keyspace>(*global_, paths::Keyspace(keyspace), &info.version);
  if (absl::IsNotFound(r.status())) return KeyspaceNotFound(keyspace);
  RETURN_IF_ERROR(r.status());
  info.record = *std::move(r);
  return info;
}

absl::StatusOr<topodata::Keyspace> Server::UpdateKeyspaceFields(
    absl::string_view keyspace, const UpdateFn<topodata::Keyspace>& fn) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  auto r = UpdateRecord<topodata::Keyspace>(*global_, paths::Keyspace(keyspace), fn);
  if (absl::IsNotFound(r.status())) return KeyspaceNotFound(keyspace);
  return r;
}

absl::StatusOr<std::vector<std::string>> Server::ListKeyspaces() {
  absl::StatusOr<std::vector<DirEntry>> entries = global_->ListDir(paths::KeyspacesDir());
  if (absl::IsNotFound(entries.status())) return std::vector<std::string>{};
  RETURN_IF_ERROR(entries.status());
  std::vector<std::string> names;
  for (const DirEntry& e : *entries) {
    // A directory left with only locks or a VSchema is not a keyspace.
    if (global_->Get(paths::Keyspace(e.name)).ok()) names.push_back(e.name);
  }
  return names;
}

absl::Status Server::DeleteKeyspace(absl::string_view keyspace, bool recursive) {
  RETURN_IF_ERROR(GetKeyspace(keyspace).status());
  ASSIGN_OR_RETURN(std::vector<std::string> shards, ListShards(keyspace));
  if (!shards.empty() && !recursive) {
    return absl::FailedPreconditionError(
        absl::StrCat("keyspace ", keyspace, " still has ", shards.size(),
                     " shard(s); delete them first or pass --recursive"));
  }
  if (recursive) {
    ASSIGN_OR_RETURN(std::vector<std::string> cells, ListCells());
    for (const std::string& cell : cells) {
      ASSIGN_OR_RETURN(CellConn cc, ForCell(cell));
      RETURN_IF_ERROR(DeleteRecursive(*cc.conn, paths::CellKeyspaceDir(cc.root, keyspace)));
    }
  }
  return DeleteRecursive(*global_, paths::KeyspaceDir(keyspace));
}

}  // namespace shale::topo
