#include "topo/zk/zk_lock.h"

#include <algorithm>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "topo/path.h"
#include "topo/zk/zk_tree.h"

namespace shale::topo::zk_internal {
namespace {

constexpr char kWaiterPrefix[] = "seq-";

// Counts the notices of one registration, so a waiter can sleep until the
// node it watches changes (or the connection does).
class NoticeLatch : public ZkWatcher {
 public:
  void OnNotice(const ZkNotice&) override {
    absl::MutexLock l(&mu_);
    ++count_;
  }
  int64_t count() {
    absl::MutexLock l(&mu_);
    return count_;
  }
  // True once a notice arrived after `seen`; false at the deadline.
  bool WaitBeyond(int64_t seen, absl::Time deadline) {
    absl::MutexLock l(&mu_);
    auto moved = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ > seen; };
    return mu_.AwaitWithDeadline(absl::Condition(&moved), deadline);
  }

 private:
  absl::Mutex mu_;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// Registers a latch for the duration of one Lock call.
class ScopedLatch {
 public:
  explicit ScopedLatch(ZkSession& session) : session_(session), id_(session.Register(&latch_)) {}
  ~ScopedLatch() { session_.Unregister(id_); }
  NoticeLatch& latch() { return latch_; }
  int64_t id() const { return id_; }

 private:
  ZkSession& session_;
  NoticeLatch latch_;
  const int64_t id_;
};

std::string BaseName(const std::string& zpath) { return zpath.substr(zpath.rfind('/') + 1); }

// The 10-digit sequence number ZooKeeper appends to a waiter's name.
absl::string_view Sequence(absl::string_view name) {
  return name.size() > 10 ? name.substr(name.size() - 10) : name;
}

std::string NewToken() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock l(&mu);
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*gen));
}

// A write that failed this way may or may not have happened.
bool OutcomeUnknown(int rc) { return absl::IsUnavailable(ZkError(rc, "", "")); }

}  // namespace

absl::StatusOr<std::unique_ptr<LockHandle>> AcquireLock(std::shared_ptr<ZkSession> session,
                                                        const ZkPaths& paths,
                                                        const std::string& dir,
                                                        absl::string_view contents,
                                                        absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // Calls get the lock's timeout (but at least a second), at most op_timeout.
  auto rpc_deadline = [&] {
    return std::min(session->OpDeadline(), std::max(deadline, absl::Now() + absl::Seconds(1)));
  };
  const std::string zlocks = paths.ToZk(JoinPath(dir, "locks"));
  const std::string holder_zpath = JoinZk(zlocks, "lock");
  const int64_t generation = session->generation();

  // Join the queue. The token finds our waiter if the create call gets no answer.
  const std::string token = NewToken();
  const std::string prefix = JoinZk(zlocks, absl::StrCat(kWaiterPrefix, token, "-"));
  ZkReply joined;
  for (int attempt = 0; attempt < 3; ++attempt) {
    joined = session->Create(prefix, "", ZOO_EPHEMERAL_SEQUENTIAL, rpc_deadline());
    if (joined.rc != ZNONODE) break;
    int rc = EnsureParents(*session, paths, prefix, rpc_deadline());
    if (rc != ZOK) return ZkError(rc, "lock", dir);
  }
  if (joined.rc != ZOK) {
    if (OutcomeUnknown(joined.rc)) session->DeleteEphemeralLater(zlocks, generation, token);
    return ZkError(joined.rc, "lock", dir);
  }
  const std::string waiter_zpath = joined.created_path;
  const std::string waiter_name = BaseName(waiter_zpath);

  ScopedLatch scoped(*session);
  auto give_up = [&](absl::Status status) {
    int rc = session->Delete(waiter_zpath, -1, rpc_deadline()).rc;
    if (rc == ZOK) {
      PruneEmptyParents(*session, paths, waiter_zpath, rpc_deadline());
    } else if (rc != ZNONODE) {
      session->DeleteEphemeralLater(waiter_zpath, generation);  // else it blocks the queue
    }
    return status;
  };
  for (;;) {
    ZkReply listed = session->Children(zlocks, 0, rpc_deadline());
    if (listed.rc != ZOK) return give_up(ZkError(listed.rc, "lock", dir));
    std::vector<std::string> waiters;
    for (std::string& name : listed.children) {
      if (absl::StartsWith(name, kWaiterPrefix)) waiters.push_back(std::move(name));
    }
    std::sort(waiters.begin(), waiters.end(), [](const std::string& a, const std::string& b) {
      return Sequence(a) < Sequence(b);
    });
    auto mine = std::find(waiters.begin(), waiters.end(), waiter_name);
    if (mine == waiters.end()) {
      return give_up(absl::UnavailableError(absl::StrCat(
          "zk lock ", dir, ": the waiter node vanished (the ZooKeeper session expired)")));
    }
    std::string watched;
    if (mine == waiters.begin()) {
      ZkReply held =
          session->Create(holder_zpath, EncodeValue(contents), ZOO_EPHEMERAL, rpc_deadline());
      if (held.rc == ZOK) {
        return std::unique_ptr<LockHandle>(new ZkLockHandle(
            session, paths, dir, holder_zpath, waiter_zpath, generation));
      }
      if (held.rc != ZNODEEXISTS) {
        if (OutcomeUnknown(held.rc)) session->DeleteEphemeralLater(holder_zpath, generation);
        return give_up(ZkError(held.rc, "lock", dir));
      }
      watched = holder_zpath;  // a holder node from outside the queue
    } else {
      watched = JoinZk(zlocks, *(mine - 1));
    }
    const int64_t seen = scoped.latch().count();
    ZkReply exists = session->Exists(watched, scoped.id(), rpc_deadline());
    if (exists.rc == ZNONODE) continue;
    if (exists.rc != ZOK) return give_up(ZkError(exists.rc, "lock", dir));
    if (!scoped.latch().WaitBeyond(seen, deadline)) {
      return give_up(absl::DeadlineExceededError(
          absl::StrCat("zk lock ", dir, ": held by someone else; gave up after ",
                       absl::FormatDuration(timeout))));
    }
  }
}

ZkLockHandle::ZkLockHandle(std::shared_ptr<ZkSession> session, const ZkPaths& paths,
                           std::string dir, std::string holder_zpath, std::string waiter_zpath,
                           int64_t generation)
    : session_(std::move(session)),
      paths_(paths),
      dir_(std::move(dir)),
      holder_zpath_(std::move(holder_zpath)),
      waiter_zpath_(std::move(waiter_zpath)),
      generation_(generation) {
  watch_id_ = session_->Register(this);  // last: notices may arrive at once
}

ZkLockHandle::~ZkLockHandle() {
  bool released;
  {
    absl::MutexLock l(&mu_);
    released = released_;
  }
  if (!released && absl::IsUnavailable(Unlock())) {
    // Unreachable now: delete the nodes once it is back (unless the session ends first).
    session_->DeleteEphemeralLater(holder_zpath_, generation_);
    session_->DeleteEphemeralLater(waiter_zpath_, generation_);
  }
  session_->Unregister(watch_id_);
}

void ZkLockHandle::OnNotice(const ZkNotice& notice) {
  if (notice.kind != ZkNotice::Kind::kNode || notice.zpath != holder_zpath_) return;
  absl::MutexLock l(&mu_);
  watch_armed_ = false;
  if (notice.type == ZOO_DELETED_EVENT && !released_) lost_ = true;
}

absl::Status ZkLockHandle::Check() {
  {
    absl::MutexLock l(&mu_);
    if (released_) return absl::AbortedError(absl::StrCat("zk lock ", dir_, ": released"));
    if (!lost_ && (session_->generation() != generation_ || !session_->SessionMayBeAlive())) {
      lost_ = true;
    }
    if (lost_) {
      return absl::AbortedError(
          absl::StrCat("zk lock ", dir_, ": lost (the session expired or the node was deleted)"));
    }
    if (watch_armed_) return absl::OkStatus();
  }
  // Briefly disconnected, the session may well live on: the lock is still ours.
  if (!session_->WaitConnected(absl::Now())) return absl::OkStatus();
  // Look at the holder node, leaving a watch that reports its deletion.
  ZkReply node = session_->Exists(holder_zpath_, watch_id_, session_->OpDeadline());
  absl::MutexLock l(&mu_);
  if (node.rc == ZNONODE ||
      (node.rc == ZOK && node.stat.ephemeralOwner != session_->session_id())) {
    lost_ = true;
    return absl::AbortedError(absl::StrCat("zk lock ", dir_, ": lost (the node is gone)"));
  }
  if (node.rc == ZOK) watch_armed_ = true;
  // Unreachable but the session may live on: the lock is still ours.
  return absl::OkStatus();
}

absl::Status ZkLockHandle::Unlock() {
  bool was_lost;
  {
    absl::MutexLock l(&mu_);
    if (released_) return absl::AbortedError(absl::StrCat("zk lock ", dir_, ": already released"));
    released_ = true;
    was_lost = lost_ || session_->generation() != generation_;
  }
  const absl::Time deadline = session_->OpDeadline();
  std::vector<ZkOp> ops(2);
  ops[0].kind = ZkOp::Kind::kDelete;
  ops[0].zpath = holder_zpath_;
  ops[1].kind = ZkOp::Kind::kDelete;
  ops[1].zpath = waiter_zpath_;
  ZkReply removed = session_->Multi(ops, deadline);
  if (removed.rc != ZOK && removed.rc != ZNONODE) {
    absl::MutexLock l(&mu_);
    released_ = false;  // a later Unlock (or the destructor) tries again
    return ZkError(removed.rc, "unlock", dir_);
  }
  if (removed.rc == ZNONODE) {  // the holder node was gone: the lock had been lost
    session_->Delete(waiter_zpath_, -1, deadline);
    was_lost = true;
  }
  PruneEmptyParents(*session_, paths_, waiter_zpath_, deadline);
  if (was_lost) return absl::AbortedError(absl::StrCat("zk lock ", dir_, ": had been lost"));
  return absl::OkStatus();
}

}  // namespace shale::topo::zk_internal
