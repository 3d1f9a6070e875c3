#pragma once

// TabletAlias names one tablet: its cell and a uid unique in that cell,
// written CELL-UID (e.g. "zone1-100"). A strong value type; thread-compatible.

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "topodata.pb.h"

namespace shale::topo {

struct TabletAlias {
  std::string cell;
  uint32_t uid = 0;

  // Parses "CELL-UID". InvalidArgument naming the input otherwise.
  static absl::StatusOr<TabletAlias> Parse(absl::string_view text);
  static TabletAlias FromProto(const topodata::TabletAlias& p) { return {p.cell(), p.uid()}; }
  topodata::TabletAlias ToProto() const;
  std::string ToString() const;

  auto operator<=>(const TabletAlias&) const = default;
};

}  // namespace shale::topo
