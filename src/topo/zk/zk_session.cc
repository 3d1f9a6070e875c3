#include "topo/zk/zk_session.h"

#include <errno.h>
#include <stdio.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/backoff.h"
#include "spdlog/spdlog.h"

namespace shale::topo::zk_internal {
namespace {

// The C client's log lines (warnings and errors), as spdlog warnings, so the
// process's log settings decide (`shale ctl` keeps them off unless -v). While
// an ensemble is down the client logs every reconnection attempt: pass at most
// one line per few seconds, and say how many were dropped.
void LogLine(const char* message) {
  ABSL_CONST_INIT static absl::Mutex mu(absl::kConstInit);
  static absl::Time last = absl::InfinitePast();
  static int dropped = 0;
  absl::MutexLock l(&mu);
  const absl::Time now = absl::Now();
  if (now - last < absl::Seconds(5)) {
    ++dropped;
    return;
  }
  last = now;
  if (dropped > 0) spdlog::warn("zk client: {} more log lines dropped", dropped);
  dropped = 0;
  spdlog::warn("zk client: {}", message);
}

int TimeoutMs(absl::Duration d) {
  return static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

}  // namespace

ZkSession::ZkSession(ZkSessionOptions options)
    : options_(std::move(options)), negotiated_timeout_(options_.session_timeout) {}

absl::StatusOr<std::shared_ptr<ZkSession>> ZkSession::Connect(const ZkSessionOptions& options) {
  // The C client logs every connection at INFO: keep warnings and errors.
  static std::once_flag quiet;
  std::call_once(quiet, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
  std::shared_ptr<ZkSession> session(new ZkSession(options));
  if (absl::Status s = session->OpenHandle(); !s.ok()) return s;
  if (!session->WaitConnected(absl::Now() + options.connect_timeout)) {
    return absl::UnavailableError(absl::StrCat("cannot reach ZooKeeper at ", options.hosts,
                                               " within ", absl::FormatDuration(
                                                               options.connect_timeout)));
  }
  ZkSession* raw = session.get();
  session->supervisor_ = std::thread([raw] { raw->SuperviseLoop(); });
  return session;
}

ZkSession::~ZkSession() {
  {
    absl::MutexLock l(&state_mu_);
    stopping_ = true;
  }
  if (supervisor_.joinable()) supervisor_.join();
  absl::MutexLock l(&handle_mu_);
  if (zh_ != nullptr) zookeeper_close(zh_);
  zh_ = nullptr;
}

absl::Status ZkSession::OpenHandle() {
  {
    absl::MutexLock l(&state_mu_);
    state_ = State::kConnecting;
  }
  errno = 0;
  zhandle_t* zh = zookeeper_init2(options_.hosts.c_str(), &ZkSession::SessionWatcher,
                                  TimeoutMs(options_.session_timeout), nullptr, this,
                                  ZOO_NO_LOG_CLIENTENV, &LogLine);
  if (zh == nullptr) {
    if (errno == EINVAL) {
      return absl::InvalidArgumentError(
          absl::StrCat("ZooKeeper host list '", options_.hosts, "' is not valid"));
    }
    return absl::UnavailableError(absl::StrCat("cannot start a ZooKeeper client for ",
                                               options_.hosts, ": errno ", errno));
  }
  absl::MutexLock l(&handle_mu_);
  zh_ = zh;
  return absl::OkStatus();
}

void ZkSession::SuperviseLoop() {
  Backoff orphan_backoff(absl::Milliseconds(100), absl::Seconds(5));
  for (;;) {
    bool expired, orphans_due;
    {
      absl::MutexLock l(&state_mu_);
      const bool had_orphans = !orphans_.empty();
      const bool was_connected = state_ == State::kConnected;
      auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_) {
        return stopping_ || state_ == State::kExpired || !orphans_.empty() != had_orphans ||
               (state_ == State::kConnected) != was_connected;
      };
      // Sleeps until something changes, or until orphans are due.
      state_mu_.AwaitWithDeadline(absl::Condition(&changed), had_orphans && was_connected
                                                                ? orphans_due_
                                                                : absl::InfiniteFuture());
      if (stopping_) return;
      expired = state_ == State::kExpired;
      orphans_due = !orphans_.empty() && state_ == State::kConnected &&
                    absl::Now() >= orphans_due_;
    }
    if (expired) {
      ReplaceHandle();
    } else if (orphans_due) {
      DeleteOrphans();
      absl::MutexLock l(&state_mu_);
      if (orphans_.empty()) {
        orphan_backoff.Reset();
      } else {
        orphans_due_ = absl::Now() + orphan_backoff.Next();
      }
    }
  }
}

void ZkSession::ReplaceHandle() {
  {
    absl::MutexLock l(&handle_mu_);
    if (zh_ != nullptr) zookeeper_close(zh_);
    zh_ = nullptr;
  }
  {
    absl::MutexLock l(&state_mu_);
    ++generation_;
  }
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(5));
  while (!OpenHandle().ok()) {
    absl::MutexLock l(&state_mu_);
    state_mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff.Next());
    if (stopping_) return;
  }
}

void ZkSession::DeleteEphemeralLater(std::string zpath, int64_t generation, std::string token) {
  absl::MutexLock l(&state_mu_);
  orphans_.push_back(Orphan{std::move(zpath), generation, std::move(token)});
}

void ZkSession::DeleteOrphans() {
  std::vector<Orphan> orphans;
  int64_t generation, owner;
  {
    absl::MutexLock l(&state_mu_);
    orphans.swap(orphans_);
    generation = generation_;
    owner = session_id_;
  }
  std::vector<Orphan> kept;
  for (Orphan& orphan : orphans) {
    // Ephemeral nodes of an earlier session are gone with it.
    if (orphan.generation == generation && !DeleteOrphan(orphan, owner)) {
      kept.push_back(std::move(orphan));
    }
  }
  absl::MutexLock l(&state_mu_);
  for (Orphan& orphan : kept) orphans_.push_back(std::move(orphan));
}

bool ZkSession::DeleteOrphan(const Orphan& orphan, int64_t owner) {
  std::vector<std::string> zpaths;
  if (orphan.token.empty()) {
    zpaths.push_back(orphan.zpath);
  } else {
    ZkReply listed = Children(orphan.zpath, 0, OpDeadline());
    if (listed.rc == ZNONODE) return true;
    if (listed.rc != ZOK) return false;
    for (const std::string& name : listed.children) {
      if (name.find(orphan.token) != std::string::npos) {
        zpaths.push_back(absl::StrCat(orphan.zpath, "/", name));
      }
    }
  }
  bool done = true;
  for (const std::string& zpath : zpaths) {
    ZkReply node = Exists(zpath, 0, OpDeadline());
    if (node.rc == ZNONODE || (node.rc == ZOK && node.stat.ephemeralOwner != owner)) continue;
    if (node.rc == ZOK) node.rc = Delete(zpath, node.stat.version, OpDeadline()).rc;
    if (node.rc != ZOK && node.rc != ZNONODE) done = false;
  }
  return done;
}

void ZkSession::SessionWatcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  if (type != ZOO_SESSION_EVENT) return;
  static_cast<ZkSession*>(ctx)->OnSessionEvent(zh, state);
}

void ZkSession::OnSessionEvent(zhandle_t* zh, int state) {
  ZkNotice notice;
  bool dispatch = false;
  {
    absl::MutexLock l(&state_mu_);
    if (state == ZOO_CONNECTED_STATE) {
      session_id_ = zoo_client_id(zh)->client_id;
      negotiated_timeout_ = absl::Milliseconds(zoo_recv_timeout(zh));
      state_ = State::kConnected;
      down_since_ = absl::InfiniteFuture();
      if (told_down_) {
        told_down_ = false;
        dispatch = true;
        notice.kind = ZkNotice::Kind::kReconnected;
      }
    } else {
      if (state_ == State::kConnected) down_since_ = absl::Now();
      const bool expired = state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE;
      state_ = expired ? State::kExpired : State::kConnecting;
      if (!told_down_) {
        told_down_ = true;
        dispatch = true;
        notice.kind = ZkNotice::Kind::kDisconnected;
      }
    }
  }
  if (dispatch) DispatchAll(notice);
}

void ZkSession::NodeWatcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  if (type == ZOO_SESSION_EVENT || type == ZOO_NOTWATCHING_EVENT) return;
  auto* self = static_cast<ZkSession*>(const_cast<void*>(zoo_get_context(zh)));
  ZkNotice notice;
  notice.kind = ZkNotice::Kind::kNode;
  notice.type = type;
  notice.zpath = path != nullptr ? path : "";
  self->Dispatch(reinterpret_cast<intptr_t>(ctx), notice);
}

int64_t ZkSession::Register(ZkWatcher* watcher) {
  absl::MutexLock l(&registry_mu_);
  int64_t id = next_id_++;
  watchers_[id] = watcher;
  return id;
}

void ZkSession::Unregister(int64_t id) {
  absl::MutexLock l(&registry_mu_);
  watchers_.erase(id);
}

void ZkSession::Dispatch(int64_t id, const ZkNotice& notice) {
  absl::MutexLock l(&registry_mu_);
  auto it = watchers_.find(id);
  if (it != watchers_.end()) it->second->OnNotice(notice);
}

void ZkSession::DispatchAll(const ZkNotice& notice) {
  absl::MutexLock l(&registry_mu_);
  for (auto& [id, watcher] : watchers_) watcher->OnNotice(notice);
}

bool ZkSession::WaitConnected(absl::Time deadline) {
  absl::MutexLock l(&state_mu_);
  auto up = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_) {
    return stopping_ || state_ == State::kConnected;
  };
  state_mu_.AwaitWithDeadline(absl::Condition(&up), deadline);
  return state_ == State::kConnected && !stopping_;
}

int64_t ZkSession::generation() {
  absl::MutexLock l(&state_mu_);
  return generation_;
}

int64_t ZkSession::session_id() {
  absl::MutexLock l(&state_mu_);
  return session_id_;
}

bool ZkSession::SessionMayBeAlive() {
  absl::MutexLock l(&state_mu_);
  if (state_ == State::kExpired) return false;
  return state_ == State::kConnected || absl::Now() - down_since_ < negotiated_timeout_;
}

}  // namespace shale::topo::zk_internal
