// topo::Server methods for the Tablet record (written by its own tablet process).
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/paths.h"
#include "topo/records.h"
#include "topo/server.h"

namespace shale::topo {
namespace {

absl::Status TabletNotFound(const TabletAlias& alias) {
  return absl::NotFoundError(absl::StrCat("tablet ", alias.ToString(), " not found"));
}

}  // namespace

absl::Status Server::CreateTablet(const topodata::Tablet& tablet) {
  TabletAlias alias = TabletAlias::FromProto(tablet.alias());
  ASSIGN_OR_RETURN(CellConn cc, ForCell(alias.cell));
  absl::Status s = CreateRecord(*cc.conn, paths::Tablet(cc.root, alias.ToString()), tablet);
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(absl::StrCat("tablet ", alias.ToString(), " already exists"));
  }
  return s;
}

absl::StatusOr<TabletInfo> Server::GetTablet(const TabletAlias& alias) {
  ASSIGN_OR_RETURN(CellConn cc, ForCell(alias.cell));
  TabletInfo info;
  absl::StatusOr<topodata::Tablet> r = GetRecord<topodata::Tablet>(
      *cc.conn, paths::Tablet(cc.root, alias.ToString()), &info.version);
  if (absl::IsNotFound(r.status())) return TabletNotFound(alias);
  RETURN_IF_ERROR(r.status());
  info.record = *std::move(r);
  return info;
}

absl::StatusOr<topodata::Tablet> Server::UpdateTabletFields(const TabletAlias& alias,
                                                            const UpdateFn<topodata::Tablet>& fn) {
  ASSIGN_OR_RETURN(CellConn cc, ForCell(alias.cell));
  auto r = UpdateRecord<topodata::Tablet>(*cc.conn, paths::Tablet(cc.root, alias.ToString()), fn);
  if (absl::IsNotFound(r.status())) return TabletNotFound(alias);
  return r;
}

absl::Status Server::PutTablet(const topodata::Tablet& tablet) {
  TabletAlias alias = TabletAlias::FromProto(tablet.alias());
  ASSIGN_OR_RETURN(CellConn cc, ForCell(alias.cell));
  return PutRecord(*cc.conn, paths::Tablet(cc.root, alias.ToString()), tablet);
}

absl::Status Server::DeleteTablet(const TabletAlias& alias) {
  ASSIGN_OR_RETURN(CellConn cc, ForCell(alias.cell));
  absl::Status s = cc.conn->Delete(paths::Tablet(cc.root, alias.ToString()), std::nullopt);
  if (absl::IsNotFound(s)) return TabletNotFound(alias);
  return s;
}

absl::StatusOr<std::vector<TabletAlias>> Server::ListTabletAliases(absl::string_view cell) {
  ASSIGN_OR_RETURN(CellConn cc, ForCell(cell));
  absl::StatusOr<std::vector<DirEntry>> entries = cc.conn->ListDir(paths::TabletsDir(cc.root));
  if (absl::IsNotFound(entries.status())) return std::vector<TabletAlias>{};
  RETURN_IF_ERROR(entries.status());
  std::vector<TabletAlias> aliases;
  for (const DirEntry& e : *entries) {
    absl::StatusOr<TabletAlias> alias = TabletAlias::Parse(e.name);
    if (alias.ok()) aliases.push_back(*std::move(alias));
  }
  std::sort(aliases.begin(), aliases.end());
  return aliases;
}

}  // namespace shale::topo
