#pragma once

// Internal to tablet/engine: a fixed set of connections handed out one caller
// at a time. The engine keeps two: the writer (one connection, so holding it
// is holding the right to write) and the readers (N connections).
//
// The pool owns its connections for its whole life; a Lease borrows one and
// gives it back when destroyed, so the pool must outlive every Lease.
// Thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tablet/engine/connection.h"

namespace shale::tablet::engine {

class ConnectionPool {
 public:
  // Exclusive use of one connection until destroyed (or moved from).
  class Lease {
   public:
    Lease() = default;
    Lease(ConnectionPool* pool, Connection* conn) : pool_(pool), conn_(conn) {}
    ~Lease() { Release(); }
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(other.conn_) {
      other.conn_ = nullptr;
    }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Connection* get() const { return conn_; }
    Connection* operator->() const { return conn_; }
    explicit operator bool() const { return conn_ != nullptr; }
    // Gives the connection back now.
    void Release();

   private:
    ConnectionPool* pool_ = nullptr;
    Connection* conn_ = nullptr;
  };

  // name ("writer", "reader") appears in timeout messages.
  ConnectionPool(std::string name, std::vector<std::unique_ptr<Connection>> conns);
  ~ConnectionPool() = default;

  // Waits up to `wait` for a free connection. DeadlineExceeded (SQLSTATE
  // 55P03, lock_not_available; retry later) when none frees up in time.
  absl::StatusOr<Lease> Acquire(absl::Duration wait);

  // How many connections the pool owns, free or leased.
  int size() const { return static_cast<int>(all_.size()); }

 private:
  void Return(Connection* conn);

  const std::string name_;
  const std::vector<std::unique_ptr<Connection>> all_;

  absl::Mutex mu_;
  std::vector<Connection*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::tablet::engine
