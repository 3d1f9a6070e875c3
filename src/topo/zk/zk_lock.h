#pragma once

// Internal to topo/zk: locks as ephemeral sequential znodes.
//
// The lock of DIR lives below DIR/locks/. A contender creates an ephemeral
// sequential waiter node DIR/locks/seq-TOKEN-NNNNNNNNNN with empty data (so it
// holds no value and stays out of ListDir and watches; the random TOKEN finds
// it again if the create call got no answer); the waiter with the lowest
// sequence number owns the lock. Each other waiter watches only its
// predecessor (no herd effect). The owner then publishes the holder node
// DIR/locks/lock, an ephemeral value node holding the contents, which is what
// operators and watchers see. Unlock deletes both nodes in one multi; the
// owner's session ending (crash, partition longer than the session timeout)
// deletes both at once too. A DIR/locks/lock written by something else counts
// as held until it is deleted.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "topo/conn.h"
#include "topo/zk/zk_codec.h"
#include "topo/zk/zk_session.h"

namespace shale::topo::zk_internal {

// Conn::Lock on a validated dir. DeadlineExceeded if the lock is still held by
// someone else after timeout; Unavailable if the ensemble cannot be reached.
absl::StatusOr<std::unique_ptr<LockHandle>> AcquireLock(std::shared_ptr<ZkSession> session,
                                                        const ZkPaths& paths,
                                                        const std::string& dir,
                                                        absl::string_view contents,
                                                        absl::Duration timeout);

// A held lock. Lifecycle: created holding the lock; Unlock() or the
// destructor deletes its nodes. Keeps the session alive, and with it the
// lock, even after its ZkConn is gone. Owned by the caller of Lock.
// Thread-safe.
class ZkLockHandle : public LockHandle, private ZkWatcher {
 public:
  ZkLockHandle(std::shared_ptr<ZkSession> session, const ZkPaths& paths, std::string dir,
               std::string holder_zpath, std::string waiter_zpath, int64_t generation);
  ~ZkLockHandle() override;

  // Aborted if the lock was lost or already released (its nodes are cleaned
  // up anyway); Unavailable if the ensemble is unreachable (the lock is then
  // released when the session ends, or by a later Unlock or the destructor).
  absl::Status Unlock() override;
  // Aborted once the lock is lost: the session expired, the connection has
  // been down for longer than the session timeout, or the holder node was
  // deleted by someone else. OK otherwise (also while briefly disconnected).
  absl::Status Check() override;

 private:
  void OnNotice(const ZkNotice& notice) override;

  const std::shared_ptr<ZkSession> session_;
  const ZkPaths paths_;
  const std::string dir_;
  const std::string holder_zpath_;  // DIR/locks/lock
  const std::string waiter_zpath_;  // DIR/locks/seq-TOKEN-NNNNNNNNNN
  const int64_t generation_;        // the session incarnation that took the lock
  int64_t watch_id_ = 0;            // set by the constructor, then constant

  absl::Mutex mu_;  // protects the following
  bool lost_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  bool watch_armed_ ABSL_GUARDED_BY(mu_) = false;  // a watch on holder_zpath_ is set
};

}  // namespace shale::topo::zk_internal
