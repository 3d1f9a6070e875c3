#pragma once

// Helpers for the discovery tests: a memory topology with cells, real tablets
// started in-process (tablet::TabletServer, as src/tablet/rpc_test.cc does),
// a fake tablet whose health stream says whatever a test wants, a subscriber
// that counts health updates, and polling with a deadline.

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "discovery/health_check.h"
#include "grpcpp/server.h"
#include "gtest/gtest.h"
#include "tablet/tablet_server.h"
#include "tablet/test_topo.h"
#include "tablet_service.grpc.pb.h"

namespace shale::discovery {

// How long tests wait for a state that should come within about a second.
inline constexpr absl::Duration kWait = absl::Seconds(10);
// How often the tablets of these tests send health messages.
inline constexpr absl::Duration kHealthInterval = absl::Milliseconds(100);

// Polls cond every few milliseconds until it holds or timeout passes.
inline bool WaitUntil(const std::function<bool()>& cond, absl::Duration timeout = kWait) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!cond()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// A memory topology with cells zone1 (region r1), zone2 (region r1) and zone3
// (region r2), and a temp dir for tablets.
struct TestCluster {
  TestCluster();
  // A real tablet of keyspace/shard in cell; null (with a test failure) if
  // it cannot start.
  std::unique_ptr<tablet::TabletServer> StartTablet(uint32_t uid, topodata::TabletType type,
                                                    const std::string& cell = "zone1",
                                                    const std::string& keyspace = "app",
                                                    const std::string& shard = "0");
  // The record a tablet published.
  topodata::Tablet Record(const std::string& cell, uint32_t uid);

  topo::MemoryServer memory;
  topo::Server ts;
  tablet::TestDir dir;
};

// A record for a tablet at 127.0.0.1:port.
topodata::Tablet MakeRecord(const std::string& cell, uint32_t uid, int port,
                            topodata::TabletType type, const std::string& keyspace = "app",
                            const std::string& shard = "0");

// A gRPC server with only the Health service, streaming the response set by
// Set() on every change and every kHealthInterval, unless silenced.
// Thread-safe; Stop (or the destructor) ends the streams and the server.
class FakeTablet {
 public:
  FakeTablet();
  ~FakeTablet();
  void Set(const tablet::StreamHealthResponse& response);
  // A health message of a serving tablet.
  static tablet::StreamHealthResponse Healthy(const std::string& cell, uint32_t uid,
                                              topodata::TabletType type, int64_t term = 0,
                                              double lag_seconds = 0);
  // While silent, streams stay open but send nothing.
  void SetSilent(bool silent);
  void Stop();
  int port() const { return port_; }
  int64_t streams_started() const { return service_.started.load(); }

 private:
  class Service : public tablet::Health::Service {
   public:
    grpc::Status StreamHealth(grpc::ServerContext* context, const tablet::StreamHealthRequest*,
                              grpc::ServerWriter<tablet::StreamHealthResponse>* writer) override;
    absl::Mutex mu;
    tablet::StreamHealthResponse response ABSL_GUARDED_BY(mu);
    int64_t generation ABSL_GUARDED_BY(mu) = 0;
    bool silent ABSL_GUARDED_BY(mu) = false;
    bool stopping ABSL_GUARDED_BY(mu) = false;
    std::atomic<int64_t> started{0};
  };
  Service service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// Counts a HealthCheck's subscriber calls; unsubscribes when destroyed.
class UpdateCounter {
 public:
  explicit UpdateCounter(HealthCheck* hc);
  ~UpdateCounter();
  int64_t count() const { return count_.load(); }
  // Waits until n more calls than now came. False on timeout.
  bool WaitForMore(int64_t n, absl::Duration timeout = kWait) const;

 private:
  HealthCheck* const hc_;
  std::atomic<int64_t> count_{0};
  int id_ = 0;
};

// HealthCheck options for tests: quick retries, a 2 s health timeout, and
// every connection made counted in *connections (borrowed; must outlive the
// HealthCheck).
HealthCheckOptions FastHealthCheckOptions(std::atomic<int>* connections);

}  // namespace shale::discovery
