// topo_bench: throughput and watch latency of a topology backend.
//
//   topo_bench [--topo ADDR]... [--start-etcd] [--start-zk] [--seconds S] [--watch-writes N]
//
// --start-etcd / --start-zk start a local one-member etcd / standalone
// ZooKeeper (Debian's packages) on free loopback ports for the run, as the
// tests do, and add them to the list. For each address (default: a fresh
// sqlite file in a temp dir) it measures,
// one after another in the same run:
//   - get ops/s: Get of one path in a loop, one thread;
//   - cas ops/s: Get + Update(expected version) of one path, one thread;
//   - watch latency: a second *process* writes its CLOCK_MONOTONIC time N
//     times, paced 2 ms apart; this process watches the path and records
//     (arrival - written time). Printed as p50/p99 in microseconds.
// Results go to stdout as one table row per backend.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/subprocess.h"
#include "topo/etcd/etcd_test_server.h"
#include "topo/open/open.h"
#include "topo/zk/zk_test_server.h"

namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC: shared by processes

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<shale::topo::Conn> MustOpen(const std::string& address) {
  auto conn = shale::topo::OpenConn(address);
  if (!conn.ok()) {
    fprintf(stderr, "error: %s\n", std::string(conn.status().message()).c_str());
    exit(1);
  }
  return *std::move(conn);
}

double GetOpsPerSecond(shale::topo::Conn& conn, double seconds) {
  const std::string path = "/bench/get";
  (void)conn.Update(path, "value", std::nullopt);
  int64_t ops = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    for (int i = 0; i < 100; ++i) {
      if (!conn.Get(path).ok()) exit(1);
    }
    ops += 100;
  }
  return ops / std::chrono::duration<double>(Clock::now() - start).count();
}

double CasOpsPerSecond(shale::topo::Conn& conn, double seconds) {
  const std::string path = "/bench/cas";
  (void)conn.Update(path, "0", std::nullopt);
  int64_t ops = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    auto v = conn.Get(path);
    if (!v.ok()) exit(1);
    if (!conn.Update(path, absl::StrCat(ops), v->version).ok()) exit(1);
    ++ops;
  }
  return ops / std::chrono::duration<double>(Clock::now() - start).count();
}

// Child side of the watch measurement.
int RunWriter(const std::string& address, int writes) {
  auto conn = MustOpen(address);
  for (int i = 0; i < writes; ++i) {
    if (!conn->Update("/bench/watch", absl::StrCat(NowNanos()), std::nullopt).ok()) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // pacing, not waiting for state
  }
  printf("DONE\n");
  fflush(stdout);
  return 0;
}

struct Latency {
  double p50_us = 0, p99_us = 0;
  size_t samples = 0;
};

Latency WatchLatency(shale::topo::Conn& conn, const std::string& address, int writes) {
  (void)conn.Update("/bench/watch", "0", std::nullopt);
  absl::Mutex mu;
  std::vector<int64_t> lat;
  auto watch = conn.Watch("/bench/watch", [&](const shale::topo::WatchEvent& e) {
    int64_t sent = 0;
    int64_t now = NowNanos();
    if (e.kind != shale::topo::WatchEvent::Kind::kChanged) return;
    if (!absl::SimpleAtoi(e.value, &sent) || sent == 0) return;
    absl::MutexLock l(&mu);
    lat.push_back(now - sent);
  });
  if (!watch.ok()) exit(1);
  shale::Subprocess writer;
  std::string self = shale::FindBinary("topo_bench");
  if (!writer.Start({self, "--writer", "--topo", address, "--watch-writes", absl::StrCat(writes)})
           .ok() ||
      !writer.ReadLine(absl::Seconds(120)).ok()) {
    fprintf(stderr, "error: watch writer failed\n");
    exit(1);
  }
  (void)writer.Wait();
  {
    absl::MutexLock l(&mu);
    auto all = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return lat.size() >= size_t(writes); };
    mu.AwaitWithTimeout(absl::Condition(&all), absl::Seconds(5));
  }
  watch->handle.reset();
  Latency out;
  std::sort(lat.begin(), lat.end());
  out.samples = lat.size();
  if (!lat.empty()) {
    out.p50_us = lat[lat.size() / 2] / 1000.0;
    out.p99_us = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)] / 1000.0;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measures topology backend throughput and cross-process watch latency"};
  std::vector<std::string> addresses;
  double seconds = 3;
  int writes = 500;
  bool writer = false, start_etcd = false, start_zk = false;
  app.add_option("--topo", addresses, "Backend address (repeatable); default: a temp sqlite file");
  app.add_option("--seconds", seconds, "Seconds per throughput measurement")->capture_default_str();
  app.add_option("--watch-writes", writes, "Writes timed by the watch test")->capture_default_str();
  app.add_flag("--start-etcd", start_etcd, "Start a local etcd for the run and measure it too");
  app.add_flag("--start-zk", start_zk, "Start a local ZooKeeper for the run and measure it too");
  app.add_flag("--writer", writer, "Internal: act as the watch test's writer process");
  CLI11_PARSE(app, argc, argv);
  if (writer) return RunWriter(addresses.at(0), writes);

  std::string tmp;
  if (addresses.empty() || start_etcd || start_zk) {
    tmp = (std::filesystem::temp_directory_path() / "shale-topo-bench-XXXXXX").string();
    if (mkdtemp(tmp.data()) == nullptr) return 1;
    addresses.insert(addresses.begin(), absl::StrCat("sqlite:", tmp, "/topo.db"));
  }
  std::unique_ptr<shale::topo::EtcdTestServer> etcd;
  std::unique_ptr<shale::topo::ZkTestServer> zk;
  auto must = [](const absl::Status& s, const char* what) {
    if (s.ok()) return;
    fprintf(stderr, "error: cannot start %s: %s\n", what, std::string(s.message()).c_str());
    exit(1);
  };
  if (start_etcd) {
    auto started = shale::topo::EtcdTestServer::Start();
    must(started.status(), "etcd");
    etcd = *std::move(started);
    addresses.push_back(etcd->Address("/bench"));
  }
  if (start_zk) {
    auto started = shale::topo::ZkTestServer::Start();
    must(started.status(), "ZooKeeper");
    zk = *std::move(started);
    addresses.push_back(zk->Address("/bench"));
  }
  printf("%-12s %12s %12s %14s %14s %8s\n", "backend", "get ops/s", "cas ops/s", "watch p50 us",
         "watch p99 us", "samples");
  for (const std::string& address : addresses) {
    auto conn = MustOpen(address);
    double get = GetOpsPerSecond(*conn, seconds);
    double cas = CasOpsPerSecond(*conn, seconds);
    std::string kind = address.substr(0, address.find(':'));
    Latency lat;
    if (kind != "memory") lat = WatchLatency(*conn, address, writes);
    printf("%-12s %12.0f %12.0f %14.1f %14.1f %8zu\n", kind.c_str(), get, cas, lat.p50_us,
           lat.p99_us, lat.samples);
    fflush(stdout);
  }
  if (!tmp.empty()) std::filesystem::remove_all(tmp);
  return 0;
}
