// topo::Server methods for the ctld leader record (/global/ctld/CtldLeader).
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/paths.h"
#include "topo/server.h"

namespace shale::topo {

absl::StatusOr<CtldLeaderInfo> Server::GetCtldLeader() {
  ASSIGN_OR_RETURN(Versioned v, global_->Get(paths::CtldLeader()));
  CtldLeaderInfo info;
  if (!info.record.ParseFromString(v.value)) {
    return absl::DataLossError(
        absl::StrCat(paths::CtldLeader(), " does not hold a CtldLeader record"));
  }
  info.version = v.version;
  return info;
}

absl::StatusOr<Version> Server::PutCtldLeader(const topodata::CtldLeader& record,
                                              std::optional<Version> expected) {
  return global_->Update(paths::CtldLeader(), record.SerializeAsString(), expected);
}

}  // namespace shale::topo
