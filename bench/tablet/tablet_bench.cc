// tablet_bench: point-select and single-row-insert throughput and latency
// through the tablet's gRPC query service, against the same statements on the
// SQLite engine in-process, in one run, at 1 and 16 concurrent clients. The
// ratio is the cost of the RPC layer (see bench/tablet/README.md).
//
//   tablet_bench [--seconds S] [--synchronous full|normal]
//
// The tablet runs in this process (TabletServer on a loopback port, memory
// topology); each gRPC client thread has its own channel, as pooled gateway
// sessions would.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"
#include "tablet/client/tablet_client.h"
#include "tablet/tablet_server.h"
#include "topo/memory/memory_server.h"

namespace shale::tablet {
namespace {

constexpr int kRows = 10000;

struct Result {
  int64_t ops = 0;
  std::vector<double> latencies_us;
};

// Runs op on `clients` threads for `seconds`; op(thread, i) returns false on error.
template <typename Op>
Result Run(int clients, double seconds, Op op) {
  std::vector<Result> per(clients);
  std::vector<std::thread> threads;
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  std::atomic<bool> failed{false};
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      int64_t i = 0;
      while (absl::Now() < end) {
        const absl::Time start = absl::Now();
        if (!op(t, i++)) {
          failed = true;
          return;
        }
        per[t].latencies_us.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
        ++per[t].ops;
      }
    });
  }
  for (auto& th : threads) th.join();
  if (failed) {
    std::fprintf(stderr, "an operation failed\n");
    std::exit(1);
  }
  Result all;
  for (auto& r : per) {
    all.ops += r.ops;
    all.latencies_us.insert(all.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
  }
  std::sort(all.latencies_us.begin(), all.latencies_us.end());
  return all;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))];
}

int Main(int argc, char** argv) {
  double seconds = 3;
  std::string synchronous = "full";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else if (flag == "--synchronous") {
      synchronous = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: tablet_bench [--seconds S] [--synchronous full|normal]\n");
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           absl::StrCat("tablet_bench.", getpid())).string();
  topo::MemoryServer memory;
  topo::Server ts(memory.NewConn());
  if (!ts.AddCellInfo("zone1", {}).ok()) return 1;
  TabletServerOptions o;
  o.alias = {"zone1", 1};
  o.keyspace = "bench";
  o.shard = "0";
  o.init_type = topodata::PRIMARY;
  o.data_dir = dir;
  o.enable_http = false;
  o.engine.synchronous = synchronous == "normal" ? engine::Synchronous::kNormal
                                                 : engine::Synchronous::kFull;
  auto server = TabletServer::Start(&ts, o);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  engine::Engine& eng = (*server)->engine();
  if (!eng.Execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)").ok() ||
      !eng.Execute("CREATE TABLE ins (id INTEGER PRIMARY KEY, v TEXT)").ok() ||
      !eng.Execute("INSERT INTO kv WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                   "FROM n WHERE x < ?1) SELECT x, printf('value-%08d', x) FROM n",
                   {engine::Value(kRows)})
           .ok()) {
    std::fprintf(stderr, "setup failed\n");
    return 1;
  }
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->grpc_port());
  std::atomic<int64_t> next_id{1};
  const char* kSelect = "SELECT v FROM kv WHERE id = ?1";
  const char* kInsert = "INSERT INTO ins (id, v) VALUES (?1, 'x')";

  std::printf("%-7s %7s %-7s %10s %9s %9s %7s\n", "op", "clients", "path", "ops/s", "p50_us",
              "p99_us", "ratio");
  for (const char* op : {"select", "insert"}) {
    const bool is_select = std::string(op) == "select";
    for (int clients : {1, 16}) {
      std::vector<absl::BitGen> gens(clients);
      Result local = Run(clients, seconds, [&](int t, int64_t) {
        engine::Value key = is_select ? engine::Value(absl::Uniform<int64_t>(gens[t], 1, kRows + 1))
                                      : engine::Value(next_id.fetch_add(1));
        return eng.Execute(is_select ? kSelect : kInsert, {key}).ok();
      });
      std::vector<std::unique_ptr<TabletClient>> clients_v;
      for (int t = 0; t < clients; ++t) clients_v.push_back(TabletClient::Connect(address));
      Result remote = Run(clients, seconds, [&](int t, int64_t) {
        ExecuteRequest req;
        req.mutable_target()->set_keyspace("bench");
        req.mutable_target()->set_shard("0");
        req.mutable_target()->set_tablet_type(topodata::PRIMARY);
        req.set_sql(is_select ? kSelect : kInsert);
        if (is_select) {
          req.add_binds()->set_int64(absl::Uniform<int64_t>(gens[t], 1, kRows + 1));
        } else {
          req.add_binds()->set_int64(next_id.fetch_add(1));
        }
        TabletClient& c = *clients_v[t];
        return c.Call(c.query(), &Query::Stub::Execute, req, absl::Seconds(30)).ok();
      });
      // The gateway's path: one long-lived Query.Session stream per client.
      std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
      std::vector<std::unique_ptr<grpc::ClientReaderWriter<SessionRequest, SessionResponse>>>
          streams;
      for (int t = 0; t < clients; ++t) {
        contexts.push_back(std::make_unique<grpc::ClientContext>());
        streams.push_back(clients_v[t]->query().Session(contexts.back().get()));
      }
      Result streamed = Run(clients, seconds, [&](int t, int64_t i) {
        SessionRequest req;
        req.set_id(i);
        ExecuteRequest* e = req.mutable_execute();
        e->mutable_target()->set_keyspace("bench");
        e->mutable_target()->set_shard("0");
        e->mutable_target()->set_tablet_type(topodata::PRIMARY);
        e->set_sql(is_select ? kSelect : kInsert);
        e->add_binds()->set_int64(is_select ? absl::Uniform<int64_t>(gens[t], 1, kRows + 1)
                                            : next_id.fetch_add(1));
        SessionResponse resp;
        return streams[t]->Write(req) && streams[t]->Read(&resp) && resp.error().code() == 0;
      });
      for (int t = 0; t < clients; ++t) {
        streams[t]->WritesDone();
        streams[t]->Finish().ok();
      }
      const double local_rate = local.ops / seconds;
      const double remote_rate = remote.ops / seconds;
      const double stream_rate = streamed.ops / seconds;
      std::printf("%-7s %7d %-7s %10.0f %9.1f %9.1f %7s\n", op, clients, "sqlite", local_rate,
                  Percentile(local.latencies_us, 0.5), Percentile(local.latencies_us, 0.99), "");
      std::printf("%-7s %7d %-7s %10.0f %9.1f %9.1f %7.2f\n", op, clients, "grpc", remote_rate,
                  Percentile(remote.latencies_us, 0.5), Percentile(remote.latencies_us, 0.99),
                  remote_rate > 0 ? local_rate / remote_rate : 0.0);
      std::printf("%-7s %7d %-7s %10.0f %9.1f %9.1f %7.2f\n", op, clients, "stream", stream_rate,
                  Percentile(streamed.latencies_us, 0.5), Percentile(streamed.latencies_us, 0.99),
                  stream_rate > 0 ? local_rate / stream_rate : 0.0);
      std::fflush(stdout);
    }
  }
  (*server)->Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace
}  // namespace shale::tablet

int main(int argc, char** argv) { return shale::tablet::Main(argc, argv); }
