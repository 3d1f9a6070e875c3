#pragma once

// Counters of a Server, bumped by its connection threads and read by
// Server::stats(). Lock-free; safe from any thread.

#include <atomic>
#include <cstdint>

namespace shale::gate::pgwire {

// A snapshot of the counters.
struct ServerStats {
  int64_t connections_accepted = 0;  // TCP connections taken off the listener
  int64_t connections_open = 0;      // connections whose thread is still running
  int64_t connections_rejected = 0;  // over max_connections (53300)
  int64_t auth_failures = 0;         // failed password authentications
  int64_t protocol_errors = 0;       // connections closed for a protocol violation (08P01)
  int64_t queries = 0;               // statements executed (Session::Execute calls)
  int64_t errors = 0;                // ErrorResponses sent for failed statements
};

struct StatsCounters {
  std::atomic<int64_t> connections_accepted{0};
  std::atomic<int64_t> connections_open{0};
  std::atomic<int64_t> connections_rejected{0};
  std::atomic<int64_t> auth_failures{0};
  std::atomic<int64_t> protocol_errors{0};
  std::atomic<int64_t> queries{0};
  std::atomic<int64_t> errors{0};

  ServerStats Snapshot() const {
    ServerStats s;
    s.connections_accepted = connections_accepted.load();
    s.connections_open = connections_open.load();
    s.connections_rejected = connections_rejected.load();
    s.auth_failures = auth_failures.load();
    s.protocol_errors = protocol_errors.load();
    s.queries = queries.load();
    s.errors = errors.load();
    return s;
  }
};

}  // namespace shale::gate::pgwire
