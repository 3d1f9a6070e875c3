#pragma once

// Internal to topo/zk: keeping the znode tree in the shape Shale expects.
// ZooKeeper wants a node's parents to exist, and Shale's directories are
// implicit, so writers create missing parents (with empty data: no value) and
// deleters remove the parents that a deletion left empty.

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "topo/zk/zk_codec.h"
#include "topo/zk/zk_session.h"

namespace shale::topo::zk_internal {

// "/a" + "b" -> "/a/b".
std::string JoinZk(absl::string_view zdir, absl::string_view name);

// Creates every missing ancestor of zpath (root included) as a directory node.
// Returns ZOK or the ZooKeeper code that stopped it.
int EnsureParents(ZkSession& session, const ZkPaths& paths, const std::string& zpath,
                  absl::Time deadline);

// After zpath was deleted: deletes its ancestors below root, deepest first,
// while they hold no value and have no children. Best effort: stops at the
// first ancestor that is in use, changed meanwhile, or cannot be reached.
void PruneEmptyParents(ZkSession& session, const ZkPaths& paths, const std::string& zpath,
                       absl::Time deadline);

}  // namespace shale::topo::zk_internal
