#pragma once

// SessionHandler runs one gateway session's requests (DESIGN §5): each
// Execute, Begin, Commit or Rollback runs exactly as the unary RPC would
// (rpc_query.cc), and the transactions begun in the session and still open
// when it ends (the gateway went away) are rolled back at once rather than
// left to the idle reaper.
//
// Both transports of a session use it: the Query.Session gRPC stream
// (rpc_session.cc) and the session port (session_server.h). Owned by the
// code serving one session, on that session's thread only.

#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "tablet/services.h"

namespace shale::tablet {

class SessionHandler {
 public:
  explicit SessionHandler(TabletContext* ctx) : ctx_(ctx) {}
  ~SessionHandler();  // rolls back the transactions still open
  SessionHandler(const SessionHandler&) = delete;
  SessionHandler& operator=(const SessionHandler&) = delete;

  // Answers request into response (cleared first): its result, or its error.
  void Run(const SessionRequest& request, SessionResponse* response);

  // Whether request is an autocommit SELECT: it runs on a reader connection
  // held only while it runs, and waits for nothing else another session
  // holds (no write gate, no writer, no commit wait). The session port runs
  // these on the connection's fiber, everything else off it.
  static bool IsQuickRead(const SessionRequest& request);

 private:
  absl::Status RunCall(const SessionRequest& request, SessionResponse* response);

  TabletContext* const ctx_;
  absl::flat_hash_set<int64_t> open_txns_;
};

}  // namespace shale::tablet
