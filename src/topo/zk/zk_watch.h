#pragma once

// Internal to topo/zk: Conn::Watch on one node.
//
// The watch keeps one ZooKeeper watch on the node: a data watch (getData)
// while the znode exists, an exists watch while it does not. Each
// notification is one-shot, so the handler re-reads the node (re-arming the
// watch in the same call) and reports what changed since the last report:
// kChanged with the new value when its mzxid moved, kDeleted when the value
// went away. Changes that happen between a notification and the re-read are
// folded into one report: a watcher sees, in order, a subsequence of the
// values written that always ends with the latest one.
//
// On kDisconnected it reports kError (Unavailable) once; on kReconnected it
// re-reads and reports the current state (kChanged or kDeleted) even if
// nothing changed, as every backend does after an error.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "topo/conn.h"
#include "topo/zk/zk_codec.h"
#include "topo/zk/zk_session.h"

namespace shale::topo::zk_internal {

// Conn::Watch on a validated path. NotFound if the path holds no value;
// Unavailable if the ensemble cannot be reached.
absl::StatusOr<WatchStart> StartNodeWatch(std::shared_ptr<ZkSession> session,
                                          const ZkPaths& paths, const std::string& path,
                                          WatchCallback cb);

}  // namespace shale::topo::zk_internal
