#include "topo/zk/zk_conn.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "topo/path.h"
#include "topo/zk/zk_address.h"
#include "topo/zk/zk_dir_watch.h"
#include "topo/zk/zk_lock.h"
#include "topo/zk/zk_tree.h"
#include "topo/zk/zk_watch.h"

namespace shale::topo {

using zk_internal::DecodeValue;
using zk_internal::EncodeValue;
using zk_internal::ZkError;
using zk_internal::ZkReply;

namespace {

absl::Status ContentionError(absl::string_view what, absl::string_view path) {
  return absl::UnavailableError(
      absl::StrCat("zk ", what, " ", path, ": the node kept changing until the deadline"));
}


}  // namespace

absl::StatusOr<std::unique_ptr<ZkConn>> ZkConn::Open(absl::string_view address,
                                                     const ConnOptions& options,
                                                     const ZkConnOptions& zk_options) {
  absl::StatusOr<ZkAddress> parsed = ParseZkAddress(address);
  if (!parsed.ok()) return parsed.status();
  zk_internal::ZkSessionOptions session_options;
  session_options.hosts = parsed->hosts;
  session_options.session_timeout = options.lock_ttl;
  session_options.connect_timeout = zk_options.connect_timeout;
  session_options.op_timeout = zk_options.op_timeout;
  auto session = zk_internal::ZkSession::Connect(session_options);
  if (!session.ok()) return session.status();
  std::unique_ptr<ZkConn> conn(new ZkConn(std::move(*session), parsed->root));
  // Make ROOT exist, so that watches and listings of "/" work from the start.
  const absl::Time deadline = conn->session_->OpDeadline();
  const std::string& root = conn->paths_.root();
  int rc = zk_internal::EnsureParents(*conn->session_, conn->paths_, root, deadline);
  if (rc == ZOK) rc = conn->session_->Create(root, "", ZOO_PERSISTENT, deadline).rc;
  if (rc != ZOK && rc != ZNODEEXISTS) return ZkError(rc, "create root", root);
  return conn;
}

ZkConn::~ZkConn() = default;

absl::StatusOr<Version> ZkConn::CreateNode(absl::string_view path, const std::string& zpath,
                                           const std::string& data, absl::Time deadline) {
  while (absl::Now() < deadline) {
    ZkReply created = session_->Create(zpath, data, ZOO_PERSISTENT, deadline);
    if (created.rc == ZOK) return Version{created.stat.mzxid};
    if (created.rc == ZNONODE) {
      int rc = zk_internal::EnsureParents(*session_, paths_, zpath, deadline);
      if (rc != ZOK) return ZkError(rc, "create", path);
      continue;
    }
    if (created.rc != ZNODEEXISTS) return ZkError(created.rc, "create", path);
    // The znode exists: it holds a value, or it is a directory that gets one now.
    ZkReply node = session_->Exists(zpath, 0, deadline);
    if (node.rc == ZNONODE) continue;
    if (node.rc != ZOK) return ZkError(node.rc, "create", path);
    if (node.stat.dataLength > 0) return ZkError(ZNODEEXISTS, "create", path);
    ZkReply set = session_->Set(zpath, data, node.stat.version, deadline);
    if (set.rc == ZOK) return Version{set.stat.mzxid};
    if (set.rc != ZBADVERSION && set.rc != ZNONODE) return ZkError(set.rc, "create", path);
  }
  return ContentionError("create", path);
}

absl::StatusOr<Version> ZkConn::Create(absl::string_view path, absl::string_view value) {
  if (absl::Status s = ValidatePath(path); !s.ok()) return s;
  return CreateNode(path, paths_.ToZk(path), EncodeValue(value), session_->OpDeadline());
}

absl::StatusOr<Versioned> ZkConn::Get(absl::string_view path) {
  if (absl::Status s = ValidatePath(path); !s.ok()) return s;
  ZkReply got = session_->Get(paths_.ToZk(path), 0, session_->OpDeadline());
  if (got.rc != ZOK) return ZkError(got.rc, "get", path);
  std::optional<std::string> value = DecodeValue(got.data);
  if (!value.has_value()) return ZkError(ZNONODE, "get", path);
  return Versioned{std::move(*value), got.stat.mzxid};
}

absl::StatusOr<Version> ZkConn::Update(absl::string_view path, absl::string_view value,
                                       std::optional<Version> expected) {
  if (absl::Status s = ValidatePath(path); !s.ok()) return s;
  const std::string zpath = paths_.ToZk(path);
  const std::string data = EncodeValue(value);
  const absl::Time deadline = session_->OpDeadline();
  if (expected.has_value()) {
    // Shale's version is the node's mzxid, which never repeats (Stat.version
    // restarts at 0 when a node is deleted and re-created, so comparing it
    // alone would let a stale compare-and-set hit the new node). The write is
    // still conditional on Stat.version, so nothing can slip in between.
    ZkReply node = session_->Exists(zpath, 0, deadline);
    if (node.rc != ZOK) return ZkError(node.rc, "update", path);
    if (node.stat.dataLength == 0) return ZkError(ZNONODE, "update", path);
    if (node.stat.mzxid != *expected) return ZkError(ZBADVERSION, "update", path);
    ZkReply set = session_->Set(zpath, data, node.stat.version, deadline);
    if (set.rc == ZOK) return Version{set.stat.mzxid};
    return ZkError(set.rc == ZNONODE ? ZBADVERSION : set.rc, "update", path);
  }
  while (absl::Now() < deadline) {
    ZkReply set = session_->Set(zpath, data, -1, deadline);
    if (set.rc == ZOK) return Version{set.stat.mzxid};
    if (set.rc != ZNONODE) return ZkError(set.rc, "update", path);
    absl::StatusOr<Version> created = CreateNode(path, zpath, data, deadline);
    if (!absl::IsAlreadyExists(created.status())) return created;
  }
  return ContentionError("update", path);
}

absl::Status ZkConn::Delete(absl::string_view path, std::optional<Version> expected) {
  if (absl::Status s = ValidatePath(path); !s.ok()) return s;
  const std::string zpath = paths_.ToZk(path);
  const absl::Time deadline = session_->OpDeadline();
  while (absl::Now() < deadline) {
    ZkReply node = session_->Exists(zpath, 0, deadline);
    if (node.rc != ZOK) return ZkError(node.rc, "delete", path);
    if (node.stat.dataLength == 0) return ZkError(ZNONODE, "delete", path);
    if (expected.has_value() && *expected != node.stat.mzxid) {
      return ZkError(ZBADVERSION, "delete", path);
    }
    if (node.stat.numChildren == 0) {
      ZkReply deleted = session_->Delete(zpath, node.stat.version, deadline);
      if (deleted.rc == ZOK) {
        zk_internal::PruneEmptyParents(*session_, paths_, zpath, deadline);
        return absl::OkStatus();
      }
      if (deleted.rc != ZNOTEMPTY && deleted.rc != ZBADVERSION && deleted.rc != ZNONODE) {
        return ZkError(deleted.rc, "delete", path);
      }
    } else {
      // Children keep the znode: clearing its data removes the value.
      ZkReply cleared = session_->Set(zpath, "", node.stat.version, deadline);
      if (cleared.rc == ZOK) return absl::OkStatus();
      if (cleared.rc != ZBADVERSION && cleared.rc != ZNONODE) {
        return ZkError(cleared.rc, "delete", path);
      }
    }
  }
  return ContentionError("delete", path);
}

absl::StatusOr<std::vector<DirEntry>> ZkConn::ListDir(absl::string_view dir) {
  if (absl::Status s = ValidateDir(dir); !s.ok()) return s;
  const std::string zdir = paths_.ToZk(dir);
  const absl::Time deadline = session_->OpDeadline();
  ZkReply listed = session_->Children(zdir, 0, deadline);
  if (listed.rc != ZOK) return ZkError(listed.rc, "list", dir);
  std::sort(listed.children.begin(), listed.children.end());
  // One pipelined round trip for the children's Stats.
  std::vector<zk_internal::ZkCallPtr> calls;
  calls.reserve(listed.children.size());
  for (const std::string& name : listed.children) {
    calls.push_back(session_->StartExists(zk_internal::JoinZk(zdir, name), 0));
  }
  std::vector<DirEntry> entries;
  for (size_t i = 0; i < calls.size(); ++i) {
    ZkReply child = zk_internal::ZkSession::Wait(calls[i], deadline);
    if (child.rc == ZNONODE) continue;  // deleted meanwhile
    if (child.rc != ZOK) return ZkError(child.rc, "list", dir);
    DirEntry entry{listed.children[i], child.stat.dataLength > 0, child.stat.numChildren > 0};
    // A znode with neither is a lock waiter or a directory being removed.
    if (entry.has_value || entry.has_children) entries.push_back(std::move(entry));
  }
  if (entries.empty()) return ZkError(ZNONODE, "list", dir);
  return entries;
}

absl::StatusOr<std::unique_ptr<LockHandle>> ZkConn::Lock(absl::string_view dir,
                                                         absl::string_view contents,
                                                         absl::Duration timeout) {
  if (absl::Status s = ValidateDir(dir); !s.ok()) return s;
  return zk_internal::AcquireLock(session_, paths_, std::string(dir), contents, timeout);
}

absl::StatusOr<WatchStart> ZkConn::Watch(absl::string_view path, WatchCallback cb) {
  if (absl::Status s = ValidatePath(path); !s.ok()) return s;
  return zk_internal::StartNodeWatch(session_, paths_, std::string(path), std::move(cb));
}

absl::StatusOr<DirWatchStart> ZkConn::WatchDir(absl::string_view dir, WatchCallback cb) {
  if (absl::Status s = ValidateDir(dir); !s.ok()) return s;
  return zk_internal::StartDirWatch(session_, paths_, std::string(dir), std::move(cb));
}

}  // namespace shale::topo
