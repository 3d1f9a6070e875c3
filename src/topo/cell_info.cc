// topo::Server methods for the CellInfo record.
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/path.h"
#include "topo/paths.h"
#include "topo/records.h"
#include "topo/server.h"

namespace shale::topo {

absl::Status Server::AddCellInfo(absl::string_view cell, const topodata::CellInfo& info) {
  RETURN_IF_ERROR(ValidateName("cell", cell));
  if (!info.root().empty()) {
    absl::Status s = ValidatePath(info.root());
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("cell root: ", s.message()));
  }
  absl::Status s = CreateRecord(*global_, paths::CellInfo(cell), info);
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(absl::StrCat("cell ", cell, " already exists"));
  }
  return s;
}

absl::StatusOr<topodata::CellInfo> Server::GetCellInfo(absl::string_view cell) {
  RETURN_IF_ERROR(ValidateName("cell", cell));
  auto r = GetRecord<topodata::CellInfo>(*global_, paths::CellInfo(cell));
  if (absl::IsNotFound(r.status())) {
    return absl::NotFoundError(
        absl::StrCat("cell ", cell, " not found (add it with AddCellInfo)"));
  }
  return r;
}

absl::StatusOr<std::vector<std::string>> Server::ListCells() {
  absl::StatusOr<std::vector<DirEntry>> entries = global_->ListDir(paths::CellsDir());
  if (absl::IsNotFound(entries.status())) return std::vector<std::string>{};
  RETURN_IF_ERROR(entries.status());
  std::vector<std::string> cells;
  for (const DirEntry& e : *entries) {
    if (e.has_children) cells.push_back(e.name);
  }
  return cells;
}

absl::Status Server::DeleteCellInfo(absl::string_view cell) {
  RETURN_IF_ERROR(GetCellInfo(cell).status());
  {
    absl::MutexLock l(&mu_);
    cell_conns_.erase(std::string(cell));
  }
  return global_->Delete(paths::CellInfo(cell), std::nullopt);
}

}  // namespace shale::topo
