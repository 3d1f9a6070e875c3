#pragma once

// The ZooKeeper topology backend, zk://HOST:PORT[,HOST:PORT...]/ROOT
// (DESIGN §2), over ZooKeeper's C client (libzookeeper-mt). See README.md for
// the node layout and value encoding.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ZkConn> conn,
//                    ZkConn::Open("zk://10.0.0.1:2181,10.0.0.2:2181/shale", {}));
//
// Versions are the znodes' Stat.version. Locks are ephemeral sequential
// znodes, so a lock lives as long as the holder's ZooKeeper session:
// ConnOptions::lock_ttl is the session timeout (the server clamps it to
// [2, 20] x its tickTime). Watches are ZooKeeper's one-shot watches, re-armed
// after each notification by re-reading the node, so a watcher sees the
// latest value of a node, but may skip intermediate values of a fast writer.
// On a connection loss every watch reports kError (Unavailable) once, and
// reports the current state again once the connection (or, after an expiry,
// a new session) is back.
//
// Every call has a deadline (ZkConnOptions::op_timeout): while the ensemble is
// unreachable, calls fail with Unavailable when it passes; reads retry within
// it. Several hosts in the address give failover: the client moves to another
// server of the ensemble when one fails.
//
// Lifecycle: Open() connects; the destructor lets go of the session, which
// closes once the lock and watch handles made from this Conn are gone too.
// Thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "topo/conn.h"
#include "topo/zk/zk_codec.h"
#include "topo/zk/zk_session.h"

namespace shale::topo {

// Settings of the zk backend beyond ConnOptions.
struct ZkConnOptions {
  absl::Duration op_timeout = absl::Seconds(10);       // deadline of each call
  absl::Duration connect_timeout = absl::Seconds(10);  // how long Open waits for a server
};

class ZkConn : public Conn {
 public:
  // Connects to the ensemble named by address and creates ROOT if missing.
  // InvalidArgument for a malformed address; Unavailable if no server answers
  // within connect_timeout.
  static absl::StatusOr<std::unique_ptr<ZkConn>> Open(absl::string_view address,
                                                      const ConnOptions& options,
                                                      const ZkConnOptions& zk_options = {});
  ~ZkConn() override;

  absl::StatusOr<Version> Create(absl::string_view path, absl::string_view value) override;
  absl::StatusOr<Versioned> Get(absl::string_view path) override;
  absl::StatusOr<Version> Update(absl::string_view path, absl::string_view value,
                                 std::optional<Version> expected) override;
  absl::Status Delete(absl::string_view path, std::optional<Version> expected) override;
  absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view dir) override;
  absl::StatusOr<std::unique_ptr<LockHandle>> Lock(absl::string_view dir,
                                                   absl::string_view contents,
                                                   absl::Duration timeout) override;
  absl::StatusOr<WatchStart> Watch(absl::string_view path, WatchCallback cb) override;
  absl::StatusOr<DirWatchStart> WatchDir(absl::string_view dir, WatchCallback cb) override;

 private:
  ZkConn(std::shared_ptr<zk_internal::ZkSession> session, std::string root)
      : session_(std::move(session)), paths_(std::move(root)) {}

  // Create without validation; zpath and data already mapped.
  absl::StatusOr<Version> CreateNode(absl::string_view path, const std::string& zpath,
                                     const std::string& data, absl::Time deadline);

  const std::shared_ptr<zk_internal::ZkSession> session_;
  const zk_internal::ZkPaths paths_;
};

}  // namespace shale::topo
