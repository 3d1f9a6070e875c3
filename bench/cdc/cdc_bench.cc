// cdc_bench: one change subscriber (changes::Subscription, as the gateway's
// Gate.Subscribe and `shale ctl Subscribe` use it) against a running
// cluster. Live mode (--from now): for --seconds, the delay of every row event
// from its commit (commit_ts_us, the primary's clock; same machine) to its
// arrival here, p50/p90/p99/max, and the events per second received.
// Catch-up mode (--from POSITION --events N): how fast one subscriber reads
// a backlog of N row events, i.e. the rate one subscriber can follow.
// Driven by bench/cdc/run; prints one "key=value ..." line.

#include <algorithm>
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "changes/subscription.h"
#include "delay_stats.h"
#include "spdlog/spdlog.h"
#include "topo/open/open.h"

int main(int argc, char** argv) {
  CLI::App app("cdc_bench: change subscription delay and throughput");
  std::string topo_addr, keyspace = "app", from = "now";
  double seconds = 10;
  int64_t events = 0;
  app.add_option("--topo", topo_addr)->required();
  app.add_option("--keyspace", keyspace);
  app.add_option("--from", from);
  app.add_option("--seconds", seconds, "live mode: how long to measure");
  app.add_option("--events", events, "catch-up mode: row events to read");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  auto conn = shale::topo::OpenConn(topo_addr, {});
  if (!conn.ok()) {
    std::fprintf(stderr, "%s\n", conn.status().ToString().c_str());
    return 1;
  }
  shale::topo::Server ts(*std::move(conn));
  shale::changes::SubscriptionOptions o;
  o.keyspace = keyspace;
  o.from = from;
  o.queue.max_events = 100000;
  auto sub = shale::changes::Subscription::Start(&ts, o);
  if (!sub.ok()) {
    std::fprintf(stderr, "%s\n", sub.status().ToString().c_str());
    return 1;
  }
  std::printf("start_position=%s\n", (*sub)->start_position().c_str());
  std::fflush(stdout);
  shale::bench::DelayStats delays;
  const absl::Time start = absl::Now();
  absl::Time last = start;
  const absl::Time deadline =
      events > 0 ? start + absl::Minutes(10) : start + absl::Seconds(seconds);
  std::string position = (*sub)->start_position();
  while (absl::Now() < deadline && (events == 0 || delays.count() < events)) {
    auto got = (*sub)->Next(4096, absl::Milliseconds(100));
    if (!got.ok()) {
      std::fprintf(stderr, "%s\n", got.status().ToString().c_str());
      return 1;
    }
    const int64_t now_us = absl::ToUnixMicros(absl::Now());
    for (const auto& e : *got) {
      position = e.position;
      if (e.event.op() == shale::tablet::HEARTBEAT_EVENT) continue;
      delays.Add(now_us - e.event.commit_ts_us());
    }
    if (!got->empty()) last = absl::Now();
  }
  const double span =
      events > 0 ? absl::ToDoubleSeconds(last - start) : absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("%s connects=%lld end_position=%s\n", delays.Line(span).c_str(),
              static_cast<long long>((*sub)->connects()), position.c_str());
  return 0;
}
