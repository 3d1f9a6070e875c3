#pragma once

// Internal to topo/zk: one ZooKeeper session over the C client
// (libzookeeper-mt), with deadlines on every call and a new session after
// expiry.
//
// ZkSession owns a zhandle_t. Every call is submitted with the client's async
// API and waited for with a deadline, so no call blocks longer than asked even
// when the ensemble is unreachable. Reads retry after a connection loss until
// their deadline; writes never retry (their outcome is unknown after a loss).
//
// Watches: a ZkWatcher registers for an id; calls that set a watch pass that
// id, and ZooKeeper's one-shot notifications for it arrive in OnNotice. Every
// registered watcher also hears of connection changes (kDisconnected,
// kReconnected); after a session expiry the session makes a new zhandle with
// backoff, bumps generation(), and reports kReconnected once the new session
// is up (the old session's watches and ephemeral nodes are gone by then).
//
// Lifecycle: Connect() returns a session that is up; the destructor closes it
// (ZooKeeper then deletes its ephemeral nodes). Shared (shared_ptr) by the
// ZkConn, its lock handles and its watch handles. Thread-safe.
//
// Thread rules: notices run on the C client's completion thread (or the
// supervisor thread) with the registry lock held; OnNotice must not block and
// must not call into the session. The C client's handle is only closed or
// replaced under the writer side of handle_mu_, which the completion thread
// never takes.

#include <zookeeper/zookeeper.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shale::topo::zk_internal {

// What ZooKeeper answered to one call. rc is a ZooKeeper code (ZOK, ZNONODE,
// ...); a missed deadline is ZOPERATIONTIMEOUT.
struct ZkReply {
  int rc = ZOK;
  std::string data;                   // get
  struct Stat stat = {};              // get, exists, set, create, children
  std::vector<std::string> children;  // children
  std::string created_path;           // create (the name a sequential node got)
  std::vector<int> op_rcs;            // multi: one code per op
};

// One operation of a multi (an atomic transaction).
struct ZkOp {
  enum class Kind { kCreate, kDelete, kSet, kCheck };
  Kind kind = Kind::kDelete;
  std::string zpath;
  std::string data;  // kCreate, kSet
  int flags = 0;     // kCreate: ZOO_PERSISTENT, ZOO_EPHEMERAL, ...
  int version = -1;  // kDelete, kSet, kCheck; -1 = any
};

// A watch notification or a connection change, as a ZkWatcher hears it.
struct ZkNotice {
  enum class Kind {
    kNode,          // a one-shot watch fired: type is ZOO_CHANGED_EVENT etc., at zpath
    kDisconnected,  // the connection (or the session) was lost
    kReconnected,   // connected again; after a new session, generation() changed
  };
  Kind kind = Kind::kNode;
  int type = 0;
  std::string zpath;
};

class ZkWatcher {
 public:
  virtual ~ZkWatcher() = default;
  // See the thread rules above: quick, non-blocking, no calls into the session.
  virtual void OnNotice(const ZkNotice& notice) = 0;
};

class ZkCall;
using ZkCallPtr = std::shared_ptr<ZkCall>;

struct ZkSessionOptions {
  std::string hosts;                     // "h1:p1,h2:p2", no chroot
  absl::Duration session_timeout = absl::Seconds(10);
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration op_timeout = absl::Seconds(10);  // default deadline of one Conn call
};

class ZkSession {
 public:
  // Connects and waits for the session. Unavailable if no server of hosts
  // answers within connect_timeout; InvalidArgument if the C client rejects hosts.
  static absl::StatusOr<std::shared_ptr<ZkSession>> Connect(const ZkSessionOptions& options);
  ~ZkSession();
  ZkSession(const ZkSession&) = delete;
  ZkSession& operator=(const ZkSession&) = delete;

  const ZkSessionOptions& options() const { return options_; }
  absl::Time OpDeadline() const { return absl::Now() + options_.op_timeout; }

  // Registers watcher (which must outlive its registration) and returns the id
  // to pass to the watching calls. Unregister returns once no notice for id
  // runs or will run.
  int64_t Register(ZkWatcher* watcher);
  void Unregister(int64_t id);

  // Blocking calls: wait (until deadline) to be connected, submit, wait for the
  // reply. watch_id 0 sets no watch. Reads retry after a connection loss.
  ZkReply Get(const std::string& zpath, int64_t watch_id, absl::Time deadline);
  ZkReply Exists(const std::string& zpath, int64_t watch_id, absl::Time deadline);
  ZkReply Children(const std::string& zpath, int64_t watch_id, absl::Time deadline);
  ZkReply Create(const std::string& zpath, const std::string& data, int flags,
                 absl::Time deadline);
  ZkReply Set(const std::string& zpath, const std::string& data, int version,
              absl::Time deadline);
  ZkReply Delete(const std::string& zpath, int version, absl::Time deadline);
  ZkReply Multi(std::vector<ZkOp> ops, absl::Time deadline);

  // Non-blocking submission, for pipelining many reads: submit several, then
  // Wait for each. The reply is ZCONNECTIONLOSS when not connected.
  ZkCallPtr StartGet(const std::string& zpath, int64_t watch_id);
  ZkCallPtr StartExists(const std::string& zpath, int64_t watch_id);
  ZkCallPtr StartChildren(const std::string& zpath, int64_t watch_id);
  static ZkReply Wait(const ZkCallPtr& call, absl::Time deadline);

  // True once connected; false if deadline passed first.
  bool WaitConnected(absl::Time deadline);

  // Bumped each time the session is replaced after an expiry.
  int64_t generation();
  int64_t session_id();
  // False once the connection has been down for longer than the session
  // timeout: the server has then expired the session (or will on contact).
  bool SessionMayBeAlive();

  // Deletes the ephemeral node zpath in the background, retrying while the
  // ensemble is unreachable, if it still belongs to this session and the
  // session is still incarnation `generation` (else it died with its
  // session). For lock nodes whose deletion failed: left alone they would
  // block the lock for as long as the session lives.
  // With a token, zpath is a directory and the nodes to delete are its
  // children whose names contain the token (a sequential node whose create
  // call got no answer).
  void DeleteEphemeralLater(std::string zpath, int64_t generation, std::string token = "");

 private:
  enum class State { kConnecting, kConnected, kExpired };
  // An ephemeral node to delete once the ensemble is reachable.
  struct Orphan {
    std::string zpath;
    int64_t generation;
    std::string token;
  };

  explicit ZkSession(ZkSessionOptions options);
  static void SessionWatcher(zhandle_t* zh, int type, int state, const char* path, void* ctx);
  static void NodeWatcher(zhandle_t* zh, int type, int state, const char* path, void* ctx);
  void OnSessionEvent(zhandle_t* zh, int state);
  void DispatchAll(const ZkNotice& notice);
  void Dispatch(int64_t id, const ZkNotice& notice);
  absl::Status OpenHandle();
  // Replaces the handle after an expiry, and deletes orphaned ephemerals.
  void SuperviseLoop();
  void ReplaceHandle();
  void DeleteOrphans();
  // Deletes one orphan if it is still ours; false if it must be tried again.
  bool DeleteOrphan(const Orphan& orphan, int64_t owner);

  // Runs start() once connected, waits for its reply, retries idempotent
  // calls after a connection loss until deadline.
  template <typename StartFn>
  ZkReply Run(absl::Time deadline, bool idempotent, StartFn start);
  // Submits one async call on the current handle; submit returns the
  // zoo_a* result code and gets the heap context to pass as `data`.
  template <typename SubmitFn>
  ZkCallPtr Submit(SubmitFn submit);

  const ZkSessionOptions options_;

  // Guards the handle's replacement: readers submit calls, the writer closes it.
  absl::Mutex handle_mu_;
  zhandle_t* zh_ ABSL_GUARDED_BY(handle_mu_) = nullptr;

  absl::Mutex state_mu_;  // protects the following
  State state_ ABSL_GUARDED_BY(state_mu_) = State::kConnecting;
  bool told_down_ ABSL_GUARDED_BY(state_mu_) = false;  // kDisconnected sent, kReconnected due
  int64_t generation_ ABSL_GUARDED_BY(state_mu_) = 0;
  int64_t session_id_ ABSL_GUARDED_BY(state_mu_) = 0;
  absl::Duration negotiated_timeout_ ABSL_GUARDED_BY(state_mu_);
  absl::Time down_since_ ABSL_GUARDED_BY(state_mu_) = absl::InfiniteFuture();
  bool stopping_ ABSL_GUARDED_BY(state_mu_) = false;
  std::vector<Orphan> orphans_ ABSL_GUARDED_BY(state_mu_);
  absl::Time orphans_due_ ABSL_GUARDED_BY(state_mu_) = absl::InfinitePast();

  absl::Mutex registry_mu_;  // protects the following
  std::map<int64_t, ZkWatcher*> watchers_ ABSL_GUARDED_BY(registry_mu_);
  int64_t next_id_ ABSL_GUARDED_BY(registry_mu_) = 1;

  std::thread supervisor_;  // runs SuperviseLoop
};

}  // namespace shale::topo::zk_internal
