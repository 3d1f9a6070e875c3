#pragma once

// Internal to topo/sqlite: locks as leased rows.
//
// The lock of DIR is the node DIR/locks/lock. Its value is the holder's
// contents; its lease_owner column is a unique id of the LockHandle and its
// lease_expires_ms the wall-clock time (ms) until which the lock is held. A
// holder renews the lease every lock_ttl/3; a holder that dies (kill -9)
// stops renewing, and anyone may take the lock once the lease has expired.
// A node at DIR/locks/lock without a lease (written with Create) counts as
// held until someone deletes it.

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "topo/conn.h"
#include "topo/sqlite/sqlite_store.h"

namespace shale::topo::sqlite_internal {

// Conn::Lock on a validated dir: takes the lock, waiting up to timeout.
// DeadlineExceeded if it is still held then; Unavailable if the file cannot
// be written.
absl::StatusOr<std::unique_ptr<LockHandle>> AcquireLock(std::shared_ptr<SqliteStore> store,
                                                        const std::string& dir,
                                                        absl::string_view contents,
                                                        absl::Duration timeout);

// A held lock. Lifecycle: created holding the lock, with a renewal thread;
// Unlock() or the destructor stops the thread and deletes the row if it is
// still ours. Owned by the caller of Lock; may outlive its SqliteConn.
// Thread-safe.
class SqliteLockHandle : public LockHandle {
 public:
  SqliteLockHandle(std::shared_ptr<SqliteStore> store, std::string dir, std::string path,
                   std::string owner, int64_t expires_ms);
  ~SqliteLockHandle() override;

  // Aborted if the lock was already lost or released; Unavailable if the
  // file cannot be written (the lease then expires on its own).
  absl::Status Unlock() override;
  // OK while the row is ours and its lease unexpired; Aborted once lost.
  absl::Status Check() override;

  // Stops renewing the lease, as if this process had hung or been killed:
  // the lock frees itself after lock_ttl. Call it at most once, before Unlock.
  void StopRenewingForTesting() { StopRenewing(); }

  const std::string& owner() const { return owner_; }

 private:
  void RenewLoop();
  void StopRenewing();

  const std::shared_ptr<SqliteStore> store_;
  const std::string dir_;
  const std::string path_;
  const std::string owner_;

  absl::Mutex mu_;  // protects the following
  int64_t expires_ms_ ABSL_GUARDED_BY(mu_);  // the lease as last written by us
  bool lost_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;   // Unlock ran
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;   // the renewal thread must exit
  std::thread renewer_;  // joined by whoever set released_, or by the destructor
};

}  // namespace shale::topo::sqlite_internal
