#pragma once

// Internal to topo/zk: Conn::WatchDir, a recursive watch built from
// ZooKeeper's one-shot watches (the C client of ZooKeeper 3.8 has no
// persistent recursive watches).
//
// The watch mirrors the subtree below DIR: for every znode in it, it holds a
// child watch and (below DIR itself) a data watch; while DIR does not exist,
// an exists watch on DIR. On each notification it re-reads just what changed,
// re-arming as it reads:
//   child event at P     list P; scan new children's subtrees, drop gone ones
//   data event at P      read P; report its new value, or its deletion
//   deleted event at P   re-scan P (it may already be back)
//   created event at DIR scan DIR
// Every re-scan is compared with the mirror, which yields kDeleted for values
// gone (in path order) and kChanged for values new or rewritten (in the order
// ZooKeeper committed them, by mzxid). As with Watch, writes that land
// between a notification and the re-read are folded together: each path's
// reports are in order and end with its latest value.
//
// On kDisconnected it reports kError once; on kReconnected (or when a re-read
// failed, after a backoff) it re-scans the whole directory, and after an
// error reports every current value again, as every backend does.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "topo/conn.h"
#include "topo/zk/zk_codec.h"
#include "topo/zk/zk_session.h"

namespace shale::topo::zk_internal {

// Conn::WatchDir on a validated dir. Unavailable if the ensemble cannot be
// reached.
absl::StatusOr<DirWatchStart> StartDirWatch(std::shared_ptr<ZkSession> session,
                                            const ZkPaths& paths, const std::string& dir,
                                            WatchCallback cb);

}  // namespace shale::topo::zk_internal
