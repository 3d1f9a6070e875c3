#pragma once

// The in-memory topology backend (DESIGN §2, address "memory:"), for unit
// tests and dry runs.
//
// MemoryServer holds the data (path -> value and version), a global revision
// counter that every write bumps and that serves as the Version, the open
// watches and the locks. Conns made by NewConn() all see the same data, as
// processes sharing one real topology server would.
//
//   MemoryServer server;
//   std::unique_ptr<Conn> a = server.NewConn();
//   std::unique_ptr<Conn> b = server.NewConn();
//   server.SetUnavailable(true);   // every call now fails with Unavailable
//
// Lifecycle and ownership: the server must outlive the Conns it makes and
// their watch and lock handles (the state is in fact shared with them, so a
// late destruction is harmless, but do not rely on it). NewStandaloneConn()
// returns a Conn that owns a fresh server of its own.
//
// Thread-safe: any thread may call any method. Watch callbacks run on a
// per-watch thread (WatchQueue), never under the server's lock, so a callback
// may call back into the server.
//
// Semantics specific to this backend:
//   - Locks: Lock(dir) stores the contents at dir + "/locks/lock" (readable
//     with Get), waits on a condition until that node is free, and ends with
//     DeadlineExceeded at the timeout. There is no lease: a lock is held until
//     Unlock or the handle's destruction (ConnOptions::lock_ttl is unused,
//     since a holder cannot die without its process).
//   - Fault injection: SetUnavailable(true) makes every operation return
//     Unavailable and sends each open watch one kError event; SetUnavailable(false)
//     then sends every open watch the current state (kChanged, or kDeleted for
//     a node that is gone) so watchers catch up.

#include <cstdint>
#include <memory>

#include "topo/conn.h"

namespace shale::topo {

namespace memory_internal {
class MemoryCore;
}  // namespace memory_internal

class MemoryServer {
 public:
  explicit MemoryServer(const ConnOptions& options = {});
  ~MemoryServer();
  MemoryServer(const MemoryServer&) = delete;
  MemoryServer& operator=(const MemoryServer&) = delete;

  // A new connection to this server. See the class comment for lifetimes.
  std::unique_ptr<Conn> NewConn();

  // A connection that owns a fresh, empty server of its own.
  static std::unique_ptr<Conn> NewStandaloneConn(const ConnOptions& options = {});

  // While set, every operation (and LockHandle::Unlock/Check) returns
  // Unavailable, and lock waiters give up with Unavailable. Setting it sends
  // every open watch one kError(Unavailable) event; clearing it sends every
  // open watch its current value (kChanged, or kDeleted if the node is gone;
  // for a directory watch, kDeleted for each path deleted meanwhile, then
  // kChanged for every value below it). Setting the current state again is a no-op.
  void SetUnavailable(bool unavailable);

  // Number of read calls so far (Get, ListDir, Watch, WatchDir), counted on
  // entry, whatever their result. Lets tests prove that a component makes no
  // topology reads in steady state.
  int64_t read_count() const;

 private:
  std::shared_ptr<memory_internal::MemoryCore> core_;
};

}  // namespace shale::topo
