#include "topo/zk/zk_tree.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace shale::topo::zk_internal {

std::string JoinZk(absl::string_view zdir, absl::string_view name) {
  return absl::StrCat(zdir, "/", name);
}

int EnsureParents(ZkSession& session, const ZkPaths& paths, const std::string& zpath,
                  absl::Time deadline) {
  // Walk up until an ancestor exists (usually the parent), then create down.
  std::vector<std::string> missing;
  for (std::string parent = zpath.substr(0, zpath.rfind('/')); !parent.empty();
       parent = parent.substr(0, parent.rfind('/'))) {
    ZkReply r = session.Exists(parent, 0, deadline);
    if (r.rc == ZOK) break;
    if (r.rc != ZNONODE) return r.rc;
    missing.push_back(parent);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    ZkReply r = session.Create(*it, "", ZOO_PERSISTENT, deadline);
    if (r.rc != ZOK && r.rc != ZNODEEXISTS) return r.rc;
  }
  return ZOK;
}

void PruneEmptyParents(ZkSession& session, const ZkPaths& paths, const std::string& zpath,
                       absl::Time deadline) {
  for (std::string parent = paths.ParentOf(zpath);
       parent.size() > paths.root().size(); parent = paths.ParentOf(parent)) {
    ZkReply r = session.Exists(parent, 0, deadline);
    if (r.rc != ZOK || r.stat.dataLength > 0 || r.stat.numChildren > 0) return;
    // The version guards against a value written since; ZNOTEMPTY against a new child.
    if (session.Delete(parent, r.stat.version, deadline).rc != ZOK) return;
  }
}

}  // namespace shale::topo::zk_internal
