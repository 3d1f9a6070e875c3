#include "topo/zk/zk_dir_watch.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "topo/zk/zk_tree.h"
#include "topo/zk/zk_watch_loop.h"

namespace shale::topo::zk_internal {
namespace {

// One znode of the mirrored subtree.
struct Node {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int32_t version = 0;
  bool has_value = false;
  std::string value;  // only while a scan result is being compared
  std::set<std::string> children;
};
using Tree = std::map<std::string, Node>;  // by znode path

bool IsUnderZ(const std::string& zpath, const std::string& zdir) {
  return zpath == zdir ||
         (zpath.size() > zdir.size() && zpath.compare(0, zdir.size(), zdir) == 0 &&
          zpath[zdir.size()] == '/');
}

class DirWatch : public WatchHandle {
 public:
  DirWatch(std::shared_ptr<ZkSession> session, const ZkPaths& paths, std::string dir,
           WatchCallback cb)
      : paths_(paths), dir_(std::move(dir)), zdir_(paths.ToZk(dir_)), cb_(std::move(cb)),
        loop_(std::move(session)) {}
  // loop_ is destroyed first (declared last): no handler runs after that.

  absl::StatusOr<std::vector<PathValue>> Begin() {
    Tree fresh;
    int rc = ScanDir(&fresh);
    if (rc != ZOK) return ZkError(rc, "watch dir", dir_);
    std::vector<PathValue> current;
    for (auto& [zpath, node] : fresh) {
      if (node.has_value) {
        current.push_back(PathValue{paths_.FromZk(zpath), std::move(node.value), node.version});
      }
      node.value.clear();
    }
    std::sort(current.begin(), current.end(),
              [](const PathValue& a, const PathValue& b) { return a.path < b.path; });
    nodes_ = std::move(fresh);
    loop_.Start([this](const std::optional<ZkNotice>& notice) { Handle(notice); });
    return current;
  }

 private:
  ZkSession& session() { return loop_.session(); }

  void Handle(const std::optional<ZkNotice>& notice) {
    if (notice.has_value() && notice->kind == ZkNotice::Kind::kDisconnected) {
      if (!in_error_) {
        in_error_ = true;
        WatchEvent event;
        event.kind = WatchEvent::Kind::kError;
        event.path = dir_;
        event.error = absl::UnavailableError(
            absl::StrCat("zk watch dir ", dir_, ": lost the connection to ZooKeeper"));
        cb_(event);
      }
      return;
    }
    if (!session().WaitConnected(absl::Now())) return;  // kReconnected will follow
    if (!notice.has_value() || notice->kind == ZkNotice::Kind::kReconnected || needs_rescan_ ||
        in_error_) {
      Resync({zdir_});
      return;
    }
    const std::string& zpath = notice->zpath;
    if (!IsUnderZ(zpath, zdir_)) return;
    const bool known = nodes_.count(zpath) > 0;
    if (notice->type == ZOO_CHILD_EVENT && known) {
      OnChildren(zpath);
    } else if (notice->type == ZOO_CHANGED_EVENT && known && zpath != zdir_) {
      OnData(zpath);
    } else if (notice->type == ZOO_DELETED_EVENT && known) {
      Resync({zpath});
    } else if (notice->type == ZOO_CREATED_EVENT && zpath == zdir_) {
      Resync({zdir_});
    }
  }

  // A read failed: re-scan everything after a backoff.
  void Failed() {
    needs_rescan_ = true;
    loop_.RetryLater();
  }

  void OnChildren(const std::string& zpath) {
    ZkReply listed = session().Children(zpath, loop_.id(), session().OpDeadline());
    Node& node = nodes_[zpath];
    if (listed.rc == ZNONODE || (listed.rc == ZOK && listed.stat.czxid != node.czxid)) {
      Resync({zpath});  // gone, or deleted and created again
      return;
    }
    if (listed.rc != ZOK) return Failed();
    std::set<std::string> now(listed.children.begin(), listed.children.end());
    std::vector<std::string> changed;
    for (const std::string& name : node.children) {
      if (!now.count(name)) changed.push_back(JoinZk(zpath, name));
    }
    for (const std::string& name : now) {
      if (!node.children.count(name)) changed.push_back(JoinZk(zpath, name));
    }
    if (!changed.empty()) Resync(changed);
  }

  void OnData(const std::string& zpath) {
    ZkReply got = session().Get(zpath, loop_.id(), session().OpDeadline());
    Node& node = nodes_[zpath];
    if (got.rc == ZNONODE || (got.rc == ZOK && got.stat.czxid != node.czxid)) {
      Resync({zpath});
      return;
    }
    if (got.rc != ZOK) return Failed();
    std::optional<std::string> value = DecodeValue(got.data);
    WatchEvent event;
    event.path = paths_.FromZk(zpath);
    if (value.has_value()) {
      if (node.has_value && node.mzxid == got.stat.mzxid) return;
      event.kind = WatchEvent::Kind::kChanged;
      event.value = std::move(*value);
      event.version = got.stat.mzxid;
    } else {
      if (!node.has_value) return;
      event.kind = WatchEvent::Kind::kDeleted;
    }
    node.has_value = value.has_value();
    node.mzxid = got.stat.mzxid;
    node.version = got.stat.mzxid;
    cb_(event);
  }

  // Reads the subtrees at zpaths afresh (arming their watches), replaces
  // them in the mirror, and reports the differences. After an error, reports
  // every current value of the subtrees.
  void Resync(const std::vector<std::string>& zpaths) {
    Tree fresh;
    for (const std::string& zpath : zpaths) {
      int rc = zpath == zdir_ ? ScanDir(&fresh) : Scan(zpath, &fresh);
      if (rc != ZOK) return Failed();
    }
    if (std::find(zpaths.begin(), zpaths.end(), zdir_) != zpaths.end()) needs_rescan_ = false;
    const bool force = in_error_;
    in_error_ = false;
    std::vector<WatchEvent> deleted, changed;
    std::vector<int64_t> changed_zxid;
    std::set<std::string> unchanged;  // values the mirror already reported
    for (const std::string& zpath : zpaths) {
      auto end = nodes_.lower_bound(zpath + "0");  // '0' follows '/': past the subtree
      for (auto it = nodes_.lower_bound(zpath); it != end;) {
        if (!IsUnderZ(it->first, zpath)) {
          ++it;
          continue;
        }
        const Node& old = it->second;
        auto now = fresh.find(it->first);
        if (old.has_value && (now == fresh.end() || !now->second.has_value)) {
          WatchEvent event;
          event.kind = WatchEvent::Kind::kDeleted;
          event.path = paths_.FromZk(it->first);
          deleted.push_back(std::move(event));
        } else if (old.has_value && !force && old.mzxid == now->second.mzxid &&
                   old.czxid == now->second.czxid) {
          unchanged.insert(it->first);
        }
        it = nodes_.erase(it);
      }
      const std::string parent = paths_.ParentOf(zpath);
      auto p = nodes_.find(parent);
      if (zpath != zdir_ && p != nodes_.end()) {
        const std::string name = zpath.substr(zpath.rfind('/') + 1);
        if (fresh.count(zpath)) {
          p->second.children.insert(name);
        } else {
          p->second.children.erase(name);
        }
      }
    }
    for (auto& [zpath, node] : fresh) {
      if (node.has_value && !unchanged.count(zpath)) {
        WatchEvent event;
        event.kind = WatchEvent::Kind::kChanged;
        event.path = paths_.FromZk(zpath);
        event.value = std::move(node.value);
        event.version = node.version;
        changed.push_back(std::move(event));
        changed_zxid.push_back(force ? 0 : node.mzxid);
      }
      node.value.clear();
      nodes_[zpath] = std::move(node);
    }
    // Changes in commit order (after an error: in path order, as listed).
    std::vector<size_t> order(changed.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return changed_zxid[a] < changed_zxid[b]; });
    for (WatchEvent& event : deleted) cb_(event);
    for (size_t i : order) cb_(changed[i]);
  }

  // Scans DIR into out; while DIR is missing, arms an exists watch on it.
  int ScanDir(Tree* out) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      int rc = Scan(zdir_, out);
      if (rc != ZOK || out->count(zdir_)) return rc;
      ZkReply exists = session().Exists(zdir_, loop_.id(), session().OpDeadline());
      if (exists.rc == ZNONODE) return ZOK;
      if (exists.rc != ZOK) return exists.rc;
    }
    return ZOK;  // it keeps coming and going: the watches report the rest
  }

  // Reads the subtree at zpath into out, level by level with pipelined
  // calls, setting a data watch (below DIR) and a child watch on each znode.
  // A missing znode is left out. ZOK, or the code of a failed read.
  int Scan(const std::string& zpath, Tree* out) {
    struct Pending {
      std::string zpath;
      ZkCallPtr get;  // null for DIR itself: its own value is not watched
      ZkCallPtr children;
    };
    const absl::Time deadline = session().OpDeadline();
    std::vector<std::string> frontier = {zpath};
    while (!frontier.empty()) {
      std::vector<Pending> pending;
      for (const std::string& z : frontier) {
        pending.push_back(Pending{z, z == zdir_ ? nullptr : session().StartGet(z, loop_.id()),
                                  session().StartChildren(z, loop_.id())});
      }
      frontier.clear();
      for (Pending& p : pending) {
        Node node;
        if (p.get != nullptr) {
          ZkReply got = ZkSession::Wait(p.get, deadline);
          if (got.rc == ZNONODE) continue;
          if (got.rc != ZOK) return got.rc;
          std::optional<std::string> value = DecodeValue(got.data);
          node.has_value = value.has_value();
          if (node.has_value) node.value = std::move(*value);
          node.mzxid = got.stat.mzxid;
          node.version = got.stat.mzxid;
        }
        ZkReply listed = ZkSession::Wait(p.children, deadline);
        if (listed.rc == ZNONODE) continue;
        if (listed.rc != ZOK) return listed.rc;
        node.czxid = listed.stat.czxid;
        for (const std::string& name : listed.children) {
          node.children.insert(name);
          frontier.push_back(JoinZk(p.zpath, name));
        }
        (*out)[p.zpath] = std::move(node);
      }
    }
    return ZOK;
  }

  const ZkPaths paths_;
  const std::string dir_;
  const std::string zdir_;
  const WatchCallback cb_;
  // The mirror and flags: touched by the loop thread only (and Begin before).
  Tree nodes_;
  bool in_error_ = false;      // kError reported; the next full scan reports everything
  bool needs_rescan_ = false;  // a read failed; re-scan everything
  ZkWatchLoop loop_;
};

}  // namespace

absl::StatusOr<DirWatchStart> StartDirWatch(std::shared_ptr<ZkSession> session,
                                            const ZkPaths& paths, const std::string& dir,
                                            WatchCallback cb) {
  auto watch = std::make_unique<DirWatch>(std::move(session), paths, dir, std::move(cb));
  absl::StatusOr<std::vector<PathValue>> current = watch->Begin();
  if (!current.ok()) return current.status();
  return DirWatchStart{std::move(*current), std::move(watch)};
}

}  // namespace shale::topo::zk_internal
