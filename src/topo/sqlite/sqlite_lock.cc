#include "topo/sqlite/sqlite_lock.h"

#include <unistd.h>

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "topo/path.h"
#include "topo/sqlite/sqlite_nodes.h"

namespace shale::topo::sqlite_internal {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// host:pid:random, unique per LockHandle, readable by operators.
std::string NewOwnerId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  absl::BitGen gen;
  return absl::StrFormat("%s:%d:%016x", host, getpid(), absl::Uniform<uint64_t>(gen));
}

struct Attempt {
  bool acquired = false;
  int64_t expires_ms = 0;         // ours, when acquired
  std::string holder;             // otherwise: who holds it
  int64_t holder_expires_ms = 0;  // and until when (0: no lease)
};

// One IMMEDIATE transaction: take the lock if it is free or its lease expired.
absl::StatusOr<Attempt> TryAcquire(SqliteStore& store, const std::string& path,
                                   absl::string_view contents, const std::string& owner) {
  Attempt a;
  int64_t ttl_ms = absl::ToInt64Milliseconds(store.options().lock_ttl);
  RETURN_IF_ERROR(store.Write([&](SqliteDb& db) -> absl::Status {
    int64_t now = NowMs();  // after BEGIN IMMEDIATE: no other writer can act meanwhile
    ASSIGN_OR_RETURN(std::optional<NodeRow> row, ReadNode(db, path));
    if (row.has_value()) {
      if (!row->lease_owner.has_value()) {
        a.holder = "a node without a lease";
        return absl::OkStatus();
      }
      if (row->lease_expires_ms > now) {
        a.holder = *row->lease_owner;
        a.holder_expires_ms = row->lease_expires_ms;
        return absl::OkStatus();
      }
      RETURN_IF_ERROR(EraseNode(db, path, store.trim()));  // the holder died
    }
    a.expires_ms = now + ttl_ms;
    RETURN_IF_ERROR(
        WriteLeasedNode(db, path, contents, owner, a.expires_ms, store.trim()).status());
    a.acquired = true;
    return absl::OkStatus();
  }));
  return a;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LockHandle>> AcquireLock(std::shared_ptr<SqliteStore> store,
                                                        const std::string& dir,
                                                        absl::string_view contents,
                                                        absl::Duration timeout) {
  const std::string path = JoinPath(dir, "locks/lock");
  const std::string owner = NewOwnerId();
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    // Marked before the attempt so that a release right after it is not missed.
    ASSIGN_OR_RETURN(SqliteStore::ChangeMark mark, store->Mark());
    ASSIGN_OR_RETURN(Attempt a, TryAcquire(*store, path, contents, owner));
    if (a.acquired) {
      return std::make_unique<SqliteLockHandle>(std::move(store), dir, path, owner, a.expires_ms);
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "lock ", dir, " is held by ", a.holder, " (node ", path, "); gave up after ",
          absl::FormatDuration(timeout)));
    }
    absl::Time until = deadline;
    if (a.holder_expires_ms > 0) {
      until = std::min(until, absl::FromUnixMillis(a.holder_expires_ms + 1));
    }
    store->WaitForChange(mark, until);
  }
}

SqliteLockHandle::SqliteLockHandle(std::shared_ptr<SqliteStore> store, std::string dir,
                                   std::string path, std::string owner, int64_t expires_ms)
    : store_(std::move(store)),
      dir_(std::move(dir)),
      path_(std::move(path)),
      owner_(std::move(owner)),
      expires_ms_(expires_ms) {
  renewer_ = std::thread([this] { RenewLoop(); });
}

SqliteLockHandle::~SqliteLockHandle() {
  bool release;
  {
    absl::MutexLock l(&mu_);
    release = !released_;
  }
  if (release) Unlock().IgnoreError();
  if (renewer_.joinable()) renewer_.join();
}

void SqliteLockHandle::StopRenewing() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (renewer_.joinable()) renewer_.join();
}

void SqliteLockHandle::RenewLoop() {
  const absl::Duration ttl = store_->options().lock_ttl;
  const absl::Duration period = std::max(ttl / 3, absl::Milliseconds(1));
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), period)) return;
      if (lost_) return;
    }
    int64_t expires = 0;
    bool renewed = false;
    absl::Status st = store_->Write([&](SqliteDb& db) -> absl::Status {
      expires = NowMs() + absl::ToInt64Milliseconds(ttl);
      ASSIGN_OR_RETURN(renewed, RenewLease(db, path_, owner_, expires));
      return absl::OkStatus();
    });
    // On an error, retry at the next tick; Check() reports the loss if the
    // lease runs out meanwhile.
    if (!st.ok()) continue;
    absl::MutexLock l(&mu_);
    if (!renewed) {
      lost_ = true;
      return;
    }
    expires_ms_ = expires;
  }
}

absl::Status SqliteLockHandle::Check() {
  {
    absl::MutexLock l(&mu_);
    if (released_) return absl::AbortedError(absl::StrCat("lock ", dir_, " was released"));
    if (lost_) {
      return absl::AbortedError(absl::StrCat("lock ", dir_, " was lost (its lease ran out)"));
    }
  }
  absl::StatusOr<std::optional<NodeRow>> row;
  absl::Status st = store_->ReadOne([&](SqliteDb& db) -> absl::Status {
    row = ReadNode(db, path_);
    return row.status();
  });
  int64_t now = NowMs();
  absl::MutexLock l(&mu_);
  if (st.ok()) {
    const std::optional<NodeRow>& node = *row;
    if (!node.has_value() || node->lease_owner != owner_ || node->lease_expires_ms <= now) {
      lost_ = true;
    }
  } else if (now >= expires_ms_) {
    lost_ = true;  // cannot read the file, and our lease has run out anyway
  }
  if (lost_) {
    return absl::AbortedError(absl::StrCat(
        "lock ", dir_, " was lost (its lease ran out or node ", path_, " was removed)"));
  }
  return absl::OkStatus();
}

absl::Status SqliteLockHandle::Unlock() {
  {
    absl::MutexLock l(&mu_);
    if (released_) return absl::AbortedError(absl::StrCat("lock ", dir_, " was already released"));
    released_ = true;
  }
  StopRenewing();
  bool ours = false;
  RETURN_IF_ERROR(store_->Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<NodeRow> row, ReadNode(db, path_));
    ours = row.has_value() && row->lease_owner == owner_;
    if (!ours) return absl::OkStatus();
    return EraseNode(db, path_, store_->trim());
  }));
  if (!ours) {
    return absl::AbortedError(absl::StrCat("lock ", dir_, " was lost before Unlock (its lease ran ",
                                           "out or node ", path_, " was removed)"));
  }
  return absl::OkStatus();
}

}  // namespace shale::topo::sqlite_internal
