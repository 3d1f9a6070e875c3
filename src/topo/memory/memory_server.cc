#include "topo/memory/memory_server.h"

#include <utility>

#include "base/status_macros.h"
#include "topo/memory/memory_core.h"
#include "topo/path.h"
#include "topo/watch_queue.h"

namespace shale::topo {
namespace {

using memory_internal::MemoryCore;

// Cancels a watch: unregisters it from the core, then stops its queue (which
// waits for a callback in progress). Destroyed on any thread but the watch's own.
class MemoryWatchHandle : public WatchHandle {
 public:
  MemoryWatchHandle(std::shared_ptr<MemoryCore> core, std::unique_ptr<WatchQueue> queue)
      : core_(std::move(core)), queue_(std::move(queue)) {}
  ~MemoryWatchHandle() override {
    if (id_ != 0) core_->RemoveWatch(id_);
    queue_.reset();
  }

  WatchQueue* queue() { return queue_.get(); }
  void set_id(int64_t id) { id_ = id; }

 private:
  const std::shared_ptr<MemoryCore> core_;
  std::unique_ptr<WatchQueue> queue_;
  int64_t id_ = 0;  // 0 until registered
};

// A held lock: the node at lock_path_ written at version_. Thread-safe.
class MemoryLockHandle : public LockHandle {
 public:
  MemoryLockHandle(std::shared_ptr<MemoryCore> core, std::string lock_path, Version version)
      : core_(std::move(core)), lock_path_(std::move(lock_path)), version_(version) {}
  ~MemoryLockHandle() override { Unlock().IgnoreError(); }

  // FailedPrecondition if already unlocked; Aborted if the node was deleted
  // or overwritten by someone else; Unavailable while the server is down (the
  // lock is released anyway, as an expired lease would be).
  absl::Status Unlock() override {
    absl::MutexLock l(&mu_);
    if (!held_) return absl::FailedPreconditionError("lock " + lock_path_ + " is not held");
    held_ = false;
    return core_->ReleaseLock(lock_path_, version_);
  }

  // OK while held; Aborted once unlocked or lost; Unavailable while down.
  absl::Status Check() override {
    absl::MutexLock l(&mu_);
    if (!held_) return absl::AbortedError("lock " + lock_path_ + " was unlocked");
    return core_->CheckLock(lock_path_, version_);
  }

 private:
  const std::shared_ptr<MemoryCore> core_;
  const std::string lock_path_;
  const Version version_;
  absl::Mutex mu_;  // protects the following
  bool held_ ABSL_GUARDED_BY(mu_) = true;
};

// A Conn on a MemoryCore: validates paths, then delegates.
class MemoryConn : public Conn {
 public:
  explicit MemoryConn(std::shared_ptr<MemoryCore> core) : core_(std::move(core)) {}

  absl::StatusOr<Version> Create(absl::string_view path, absl::string_view value) override {
    RETURN_IF_ERROR(ValidatePath(path));
    return core_->Create(path, value);
  }

  absl::StatusOr<Versioned> Get(absl::string_view path) override {
    RETURN_IF_ERROR(ValidatePath(path));
    return core_->Get(path);
  }

  absl::StatusOr<Version> Update(absl::string_view path, absl::string_view value,
                                 std::optional<Version> expected) override {
    RETURN_IF_ERROR(ValidatePath(path));
    return core_->Update(path, value, expected);
  }

  absl::Status Delete(absl::string_view path, std::optional<Version> expected) override {
    RETURN_IF_ERROR(ValidatePath(path));
    return core_->Delete(path, expected);
  }

  absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view dir) override {
    RETURN_IF_ERROR(ValidateDir(dir));
    return core_->ListDir(dir);
  }

  absl::StatusOr<std::unique_ptr<LockHandle>> Lock(absl::string_view dir,
                                                   absl::string_view contents,
                                                   absl::Duration timeout) override {
    RETURN_IF_ERROR(ValidateDir(dir));
    std::string lock_path = JoinPath(JoinPath(dir, "locks"), "lock");
    ASSIGN_OR_RETURN(Version version,
                     core_->AcquireLock(lock_path, contents, absl::Now() + timeout));
    return std::unique_ptr<LockHandle>(
        std::make_unique<MemoryLockHandle>(core_, std::move(lock_path), version));
  }

  absl::StatusOr<WatchStart> Watch(absl::string_view path, WatchCallback cb) override {
    RETURN_IF_ERROR(ValidatePath(path));
    auto handle =
        std::make_unique<MemoryWatchHandle>(core_, std::make_unique<WatchQueue>(std::move(cb)));
    WatchStart start;
    ASSIGN_OR_RETURN(int64_t id, core_->AddNodeWatch(path, handle->queue(), &start.current));
    handle->set_id(id);
    start.handle = std::move(handle);
    return start;
  }

  absl::StatusOr<DirWatchStart> WatchDir(absl::string_view dir, WatchCallback cb) override {
    RETURN_IF_ERROR(ValidateDir(dir));
    auto handle =
        std::make_unique<MemoryWatchHandle>(core_, std::make_unique<WatchQueue>(std::move(cb)));
    DirWatchStart start;
    ASSIGN_OR_RETURN(int64_t id, core_->AddDirWatch(dir, handle->queue(), &start.current));
    handle->set_id(id);
    start.handle = std::move(handle);
    return start;
  }

 private:
  const std::shared_ptr<MemoryCore> core_;
};

}  // namespace

MemoryServer::MemoryServer(const ConnOptions& options)
    : core_(std::make_shared<MemoryCore>(options)) {}

MemoryServer::~MemoryServer() = default;

std::unique_ptr<Conn> MemoryServer::NewConn() { return std::make_unique<MemoryConn>(core_); }

std::unique_ptr<Conn> MemoryServer::NewStandaloneConn(const ConnOptions& options) {
  return std::make_unique<MemoryConn>(std::make_shared<MemoryCore>(options));
}

void MemoryServer::SetUnavailable(bool unavailable) { core_->SetUnavailable(unavailable); }

int64_t MemoryServer::read_count() const { return core_->read_count(); }

}  // namespace shale::topo
