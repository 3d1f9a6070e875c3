#include "topo/zk/zk_watch.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "topo/zk/zk_watch_loop.h"

namespace shale::topo::zk_internal {
namespace {

bool IsConnectionProblem(int rc) { return absl::IsUnavailable(ZkError(rc, "", "")); }

// What the watch last reported. Touched by the loop thread only (and by
// StartNodeWatch before the loop starts).
struct NodeState {
  bool has_value = false;
  int64_t mzxid = 0;
  int64_t czxid = 0;
  bool in_error = false;  // kError reported, the current state is due
};

class NodeWatch : public WatchHandle {
 public:
  NodeWatch(std::shared_ptr<ZkSession> session, std::string path, std::string zpath,
            WatchCallback cb)
      : path_(std::move(path)), zpath_(std::move(zpath)), cb_(std::move(cb)),
        loop_(std::move(session)) {}
  // loop_ is destroyed first (declared last): no handler runs after that.

  // Reads the node and arms the watch. NotFound if it holds no value.
  absl::StatusOr<Versioned> Begin() {
    ZkSession& session = loop_.session();
    ZkReply got = session.Get(zpath_, loop_.id(), session.OpDeadline());
    if (got.rc != ZOK) return ZkError(got.rc, "watch", path_);
    std::optional<std::string> value = DecodeValue(got.data);
    if (!value.has_value()) return ZkError(ZNONODE, "watch", path_);
    state_.has_value = true;
    state_.mzxid = got.stat.mzxid;
    state_.czxid = got.stat.czxid;
    loop_.Start([this](const std::optional<ZkNotice>& notice) { Handle(notice); });
    return Versioned{std::move(*value), got.stat.mzxid};
  }

 private:
  void Handle(const std::optional<ZkNotice>& notice) {
    if (notice.has_value() && notice->kind == ZkNotice::Kind::kDisconnected) {
      if (!state_.in_error) {
        state_.in_error = true;
        WatchEvent event;
        event.kind = WatchEvent::Kind::kError;
        event.path = path_;
        event.error = absl::UnavailableError(
            absl::StrCat("zk watch ", path_, ": lost the connection to ZooKeeper"));
        cb_(event);
      }
      return;
    }
    Refresh();
  }

  // Re-reads the node (re-arming the watch) and reports any change; with
  // in_error set, reports the current state in any case.
  void Refresh() {
    ZkSession& session = loop_.session();
    if (!session.WaitConnected(absl::Now())) return;  // kReconnected will follow
    const absl::Time deadline = session.OpDeadline();
    for (int attempt = 0; attempt < 5; ++attempt) {
      ZkReply got = session.Get(zpath_, loop_.id(), deadline);
      if (got.rc == ZOK) {
        std::optional<std::string> value = DecodeValue(got.data);
        if (value.has_value()) {
          Report(got.stat, &*value);
        } else {
          Report(got.stat, nullptr);
        }
        return;
      }
      if (got.rc == ZNONODE) {
        // Arm an exists watch; if the node came back meanwhile, read it again.
        ZkReply exists = session.Exists(zpath_, loop_.id(), deadline);
        if (exists.rc == ZNONODE) {
          Report(Stat{}, nullptr);
          return;
        }
        if (exists.rc == ZOK) continue;
        got.rc = exists.rc;
      }
      if (IsConnectionProblem(got.rc)) break;
    }
    loop_.RetryLater();
  }

  // Reports the node's state, given its Stat and its value (null: none).
  void Report(const Stat& stat, const std::string* value) {
    const bool force = state_.in_error;
    state_.in_error = false;
    WatchEvent event;
    event.path = path_;
    if (value != nullptr) {
      if (!force && state_.has_value && stat.mzxid == state_.mzxid &&
          stat.czxid == state_.czxid) {
        return;
      }
      event.kind = WatchEvent::Kind::kChanged;
      event.value = *value;
      event.version = stat.mzxid;
      state_.has_value = true;
      state_.mzxid = stat.mzxid;
      state_.czxid = stat.czxid;
    } else {
      if (!force && !state_.has_value) return;
      event.kind = WatchEvent::Kind::kDeleted;
      state_.has_value = false;
    }
    cb_(event);
  }

  const std::string path_;
  const std::string zpath_;
  const WatchCallback cb_;
  NodeState state_;
  ZkWatchLoop loop_;
};

}  // namespace

absl::StatusOr<WatchStart> StartNodeWatch(std::shared_ptr<ZkSession> session,
                                          const ZkPaths& paths, const std::string& path,
                                          WatchCallback cb) {
  auto watch = std::make_unique<NodeWatch>(std::move(session), path, paths.ToZk(path),
                                           std::move(cb));
  absl::StatusOr<Versioned> current = watch->Begin();
  if (!current.ok()) return current.status();
  return WatchStart{std::move(*current), std::move(watch)};
}

}  // namespace shale::topo::zk_internal
