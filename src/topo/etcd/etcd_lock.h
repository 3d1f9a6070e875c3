#pragma once

// Internal to topo/etcd: leases and locks.
//
// The lock of DIR is the key ROOT + DIR/locks/lock, holding the holder's
// contents and attached to a lease of the holder's. Taking it is a Txn
// "create the key if it does not exist" (create_revision == 0); a waiter
// watches the key from the revision it saw it at until a DELETE event, then
// tries again, up to its timeout. The holder keeps its lease alive from a
// background thread; if the holder dies or loses etcd for longer than the
// lease's TTL, etcd deletes the key when the lease expires, which frees the
// lock for the next waiter.

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
#include "topo/etcd/etcd_client.h"

namespace shale::topo::etcd_internal {

// An etcd lease renewed by a background thread every TTL/3.
//
// Lifecycle: Grant() returns it renewing. It is lost (lost() turns true for
// good, and renewing stops) when etcd reports it expired, or when no renewal
// succeeded for a whole TTL (etcd may have expired it meanwhile). Revoke()
// stops renewing and revokes it; the destructor only stops renewing.
// Thread-safe.
class EtcdLease {
 public:
  // ttl is rounded up to whole seconds, at least 1 (etcd may raise it to its
  // minimum). Unavailable if etcd cannot be reached.
  static absl::StatusOr<std::unique_ptr<EtcdLease>> Grant(std::shared_ptr<EtcdClient> client,
                                                          absl::Duration ttl);
  ~EtcdLease();
  EtcdLease(const EtcdLease&) = delete;
  EtcdLease& operator=(const EtcdLease&) = delete;

  int64_t id() const { return id_; }
  absl::Duration ttl() const { return ttl_; }
  bool lost();
  // Stops renewing; the lease then expires after its TTL. Idempotent.
  void StopRenewing();
  // Stops renewing and revokes the lease, deleting the keys attached to it.
  // NotFound if it had already expired; Unavailable if etcd cannot be reached.
  absl::Status Revoke();

 private:
  EtcdLease(std::shared_ptr<EtcdClient> client, int64_t id, absl::Duration ttl);
  void RenewLoop();

  const std::shared_ptr<EtcdClient> client_;
  const int64_t id_;
  const absl::Duration ttl_;
  CallCanceller stop_;  // stops the renewal thread

  absl::Mutex mu_;  // protects the following
  bool lost_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex join_mu_;  // protects the following (never held with mu_)
  bool joined_ ABSL_GUARDED_BY(join_mu_) = false;
  std::thread renewer_;  // joined once, by StopRenewing
};

// Conn::Lock on the lock key of a validated dir. DeadlineExceeded (naming the
// current holder's contents) if the lock is still held at timeout;
// Unavailable if etcd cannot be reached.
absl::StatusOr<std::unique_ptr<LockHandle>> AcquireEtcdLock(std::shared_ptr<EtcdClient> client,
                                                            std::string dir, std::string key,
                                                            absl::string_view contents,
                                                            absl::Duration ttl,
                                                            absl::Duration timeout);

// A held lock: the lock key plus the lease it is attached to.
//
// Lifecycle: created holding the lock. Unlock() or the destructor revokes the
// lease, which deletes the key. Owned by the caller of Lock; may outlive its
// EtcdConn. Thread-safe.
class EtcdLockHandle : public LockHandle {
 public:
  EtcdLockHandle(std::shared_ptr<EtcdClient> client, std::string dir, std::string key,
                 std::unique_ptr<EtcdLease> lease);
  ~EtcdLockHandle() override;

  // Aborted if the lock was already lost or released; Unavailable if etcd
  // cannot be reached (the lease then expires on its own).
  absl::Status Unlock() override;
  // OK while the lease lives and the key is still attached to it; Aborted
  // once either is gone; Unavailable if etcd cannot be reached.
  absl::Status Check() override;

  // Stops renewing the lease, as if this process had hung: the lock frees
  // itself after the lease's TTL.
  void StopRenewingForTesting() { lease_->StopRenewing(); }
  int64_t lease_id() const { return lease_->id(); }

 private:
  const std::shared_ptr<EtcdClient> client_;
  const std::string dir_;
  const std::string key_;
  const std::unique_ptr<EtcdLease> lease_;

  absl::Mutex mu_;  // protects the following
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace shale::topo::etcd_internal
