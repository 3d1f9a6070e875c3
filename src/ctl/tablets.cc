#include "ctl/tablets.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace shale::ctl {

absl::StatusOr<std::vector<topodata::Tablet>> ListTablets(topo::Server& ts,
                                                          const TabletFilter& filter) {
  std::vector<std::string> cells;
  if (!filter.cell.empty()) {
    cells.push_back(filter.cell);
  } else {
    ASSIGN_OR_RETURN(cells, ts.ListCells());
  }
  std::vector<topodata::Tablet> out;
  for (const std::string& cell : cells) {
    ASSIGN_OR_RETURN(std::vector<topo::TabletAlias> aliases, ts.ListTabletAliases(cell));
    for (const topo::TabletAlias& alias : aliases) {
      absl::StatusOr<topo::TabletInfo> ti = ts.GetTablet(alias);
      if (absl::IsNotFound(ti.status())) continue;  // deleted while we listed
      RETURN_IF_ERROR(ti.status());
      const topodata::Tablet& t = ti->record;
      if (!filter.keyspace.empty() && t.keyspace() != filter.keyspace) continue;
      if (!filter.shard.empty() && t.shard() != filter.shard) continue;
      if (filter.type != topodata::UNKNOWN && t.type() != filter.type) continue;
      out.push_back(t);
    }
  }
  return out;
}

absl::StatusOr<topodata::TabletType> ParseTabletType(absl::string_view name) {
  topodata::TabletType type;
  if (topodata::TabletType_Parse(absl::AsciiStrToUpper(name), &type) && type != topodata::UNKNOWN) {
    return type;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown tablet type \"", name, "\": use primary, replica, rdonly, spare or drained"));
}

}  // namespace shale::ctl
