#include "topo/tablet_alias.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shale::topo {

absl::StatusOr<TabletAlias> TabletAlias::Parse(absl::string_view text) {
  size_t dash = text.rfind('-');
  uint32_t uid = 0;
  if (dash == absl::string_view::npos || dash == 0 || dash + 1 == text.size() ||
      !absl::SimpleAtoi(text.substr(dash + 1), &uid) || text[dash + 1] == '+') {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid tablet alias \"", text, "\": expected CELL-UID, e.g. zone1-100"));
  }
  return TabletAlias{std::string(text.substr(0, dash)), uid};
}

topodata::TabletAlias TabletAlias::ToProto() const {
  topodata::TabletAlias p;
  p.set_cell(cell);
  p.set_uid(uid);
  return p;
}

std::string TabletAlias::ToString() const { return absl::StrCat(cell, "-", uid); }

}  // namespace shale::topo
