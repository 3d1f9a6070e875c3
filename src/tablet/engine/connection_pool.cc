#include "tablet/engine/connection_pool.h"

#include "absl/strings/str_cat.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet::engine {

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = other.pool_;
    conn_ = other.conn_;
    other.conn_ = nullptr;
  }
  return *this;
}

void ConnectionPool::Lease::Release() {
  if (conn_ != nullptr) pool_->Return(conn_);
  conn_ = nullptr;
}

ConnectionPool::ConnectionPool(std::string name, std::vector<std::unique_ptr<Connection>> conns)
    : name_(std::move(name)), all_(std::move(conns)) {
  for (const auto& c : all_) free_.push_back(c.get());
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire(absl::Duration wait) {
  absl::MutexLock lock(&mu_);
  auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !free_.empty(); };
  if (!mu_.AwaitWithTimeout(absl::Condition(&available), wait)) {
    return SqlError(
        absl::StatusCode::kDeadlineExceeded, sqlstate::kLockNotAvailable,
        absl::StrCat("timed out after ", absl::FormatDuration(wait), " waiting for the ", name_,
                     " connection", all_.size() == 1 ? " (held by an open transaction)" : "s"));
  }
  Connection* conn = free_.back();
  free_.pop_back();
  return Lease(this, conn);
}

void ConnectionPool::Return(Connection* conn) {
  absl::MutexLock lock(&mu_);
  free_.push_back(conn);
}

}  // namespace shale::tablet::engine
