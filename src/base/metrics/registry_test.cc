#include "base/metrics/registry.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::metrics {
namespace {

using ::testing::HasSubstr;

TEST(RegistryTest, CounterGolden) {
  MetricsRegistry registry;
  Counter* c = registry.AddCounter("shale_requests_total", "Requests served.");
  c->Inc();
  c->Inc(41);
  EXPECT_EQ(c->Value(), 42u);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP shale_requests_total Requests served.\n"
            "# TYPE shale_requests_total counter\n"
            "shale_requests_total 42\n");
}

TEST(RegistryTest, LabelledCounterGolden) {
  MetricsRegistry registry;
  CounterFamily* family =
      registry.AddCounterFamily("shale_queries_total", "Queries by type.", {"type", "result"});
  family->WithLabels({"select", "ok"})->Inc(3);
  family->WithLabels({"insert", "error"})->Inc();
  std::vector<std::string> values = {"select", "ok"};
  family->WithLabels(values)->Inc();
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP shale_queries_total Queries by type.\n"
            "# TYPE shale_queries_total counter\n"
            "shale_queries_total{type=\"insert\",result=\"error\"} 1\n"
            "shale_queries_total{type=\"select\",result=\"ok\"} 4\n");
}

TEST(RegistryTest, GaugeGolden) {
  MetricsRegistry registry;
  Gauge* g = registry.AddGauge("shale_open_connections", "Open client connections.");
  g->Set(10);
  g->Add(2.5);
  g->Sub(1);
  EXPECT_DOUBLE_EQ(g->Value(), 11.5);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP shale_open_connections Open client connections.\n"
            "# TYPE shale_open_connections gauge\n"
            "shale_open_connections 11.5\n");
}

TEST(RegistryTest, CallbackGaugeGolden) {
  MetricsRegistry registry;
  double lag = 0.25;
  ASSERT_TRUE(
      registry.AddCallbackGauge("shale_lag_seconds", "Replication lag.", [&] { return lag; }).ok());
  ASSERT_TRUE(
      registry.AddCallbackCounter("shale_pages_read_total", "Pages read.", [] { return 7.0; })
          .ok());
  const std::string expected_counter =
      "# HELP shale_pages_read_total Pages read.\n"
      "# TYPE shale_pages_read_total counter\n"
      "shale_pages_read_total 7\n";
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP shale_lag_seconds Replication lag.\n"
            "# TYPE shale_lag_seconds gauge\n"
            "shale_lag_seconds 0.25\n" +
                expected_counter);
  lag = 3;  // read at scrape time
  EXPECT_THAT(registry.RenderPrometheus(), HasSubstr("shale_lag_seconds 3\n"));

  EXPECT_EQ(registry.AddCallbackGauge("shale_lag_seconds", "", [] { return 1.0; }).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddCallbackGauge("bad name", "", [] { return 1.0; }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCallbackGauge("no_fn", "", nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(registry.RemoveCallback("shale_lag_seconds").ok());
  EXPECT_EQ(registry.RenderPrometheus(), expected_counter);
  EXPECT_EQ(registry.RemoveCallback("shale_lag_seconds").code(), absl::StatusCode::kNotFound);
  registry.AddCounter("plain_total", "");
  EXPECT_EQ(registry.RemoveCallback("plain_total").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RegistryTest, HistogramGolden) {
  MetricsRegistry registry;
  Histogram* h = registry.AddHistogram("shale_query_seconds", "Query latency.", {0.005, 0.1, 1});
  h->Observe(0.001);
  h->Observe(0.005);  // le is inclusive
  h->Observe(0.05);
  h->ObserveDuration(absl::Seconds(2));
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP shale_query_seconds Query latency.\n"
            "# TYPE shale_query_seconds histogram\n"
            "shale_query_seconds_bucket{le=\"0.005\"} 2\n"
            "shale_query_seconds_bucket{le=\"0.1\"} 3\n"
            "shale_query_seconds_bucket{le=\"1\"} 3\n"
            "shale_query_seconds_bucket{le=\"+Inf\"} 4\n"
            "shale_query_seconds_sum 2.056\n"
            "shale_query_seconds_count 4\n");
}

TEST(RegistryTest, LabelledHistogramPutsLeLast) {
  MetricsRegistry registry;
  HistogramFamily* family =
      registry.AddHistogramFamily("rpc_seconds", "RPC latency.", {"method"}, {1});
  family->WithLabels({"Execute"})->Observe(0.5);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP rpc_seconds RPC latency.\n"
            "# TYPE rpc_seconds histogram\n"
            "rpc_seconds_bucket{method=\"Execute\",le=\"1\"} 1\n"
            "rpc_seconds_bucket{method=\"Execute\",le=\"+Inf\"} 1\n"
            "rpc_seconds_sum{method=\"Execute\"} 0.5\n"
            "rpc_seconds_count{method=\"Execute\"} 1\n");
}

TEST(RegistryTest, FamiliesSortedByName) {
  MetricsRegistry registry;
  registry.AddGauge("zeta", "z");
  registry.AddCounter("alpha_total", "a");
  ASSERT_TRUE(registry.AddCallbackGauge("mid", "m", [] { return 1.0; }).ok());
  std::vector<FamilySnapshot> snap = registry.Snapshot();
  ASSERT_EQ(snap.size(), 3u);
  EXPECT_EQ(snap[0].name, "alpha_total");
  EXPECT_EQ(snap[1].name, "mid");
  EXPECT_EQ(snap[2].name, "zeta");
}

TEST(RegistryTest, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  CounterFamily* family =
      registry.AddCounterFamily("errors_total", "Errors.\nBy \\message.", {"message"});
  family->WithLabels({"say \"hi\"\\\nbye"})->Inc();
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP errors_total Errors.\\nBy \\\\message.\n"
            "# TYPE errors_total counter\n"
            "errors_total{message=\"say \\\"hi\\\"\\\\\\nbye\"} 1\n");
}

TEST(RegistryTest, GetOrCreateReturnsTheSameMetric) {
  MetricsRegistry registry;
  Counter* a = registry.AddCounter("c_total", "first help");
  Counter* b = registry.AddCounter("c_total", "second help");
  EXPECT_EQ(a, b);
  HistogramFamily* h1 = registry.AddHistogramFamily("h", "", {"x"}, LatencyBuckets());
  HistogramFamily* h2 = registry.AddHistogramFamily("h", "", {"x"}, LatencyBuckets());
  EXPECT_EQ(h1, h2);
  EXPECT_EQ(h1->WithLabels({"1"}), h2->WithLabels({"1"}));
  EXPECT_NE(h1->WithLabels({"1"}), h2->WithLabels({"2"}));
}

TEST(RegistryTest, ConcurrentIncrementsLoseNothing) {
  MetricsRegistry registry;
  Counter* counter = registry.AddCounter("hits_total", "");
  CounterFamily* family = registry.AddCounterFamily("by_thread_total", "", {"parity"});
  Gauge* gauge = registry.AddGauge("level", "");
  Histogram* histogram = registry.AddHistogram("obs", "", {0.5});
  constexpr int kThreads = 8;
  constexpr int kIters = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        counter->Inc();
        // Children are created concurrently on first use.
        family->WithLabels({t % 2 == 0 ? "even" : "odd"})->Inc();
        gauge->Add(1);
        histogram->Observe(i % 2 == 0 ? 0.25 : 0.75);
      }
      registry.RenderPrometheus();  // scrapes race with updates
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counter->Value(), uint64_t{kThreads} * kIters);
  EXPECT_EQ(family->WithLabels({"even"})->Value(), uint64_t{kThreads / 2} * kIters);
  EXPECT_EQ(family->WithLabels({"odd"})->Value(), uint64_t{kThreads / 2} * kIters);
  EXPECT_DOUBLE_EQ(gauge->Value(), double{kThreads} * kIters);
  HistogramSnapshot h = histogram->Snapshot();
  EXPECT_EQ(h.count, uint64_t{kThreads} * kIters);
  EXPECT_EQ(h.cumulative[0], uint64_t{kThreads} * kIters / 2);
  EXPECT_DOUBLE_EQ(h.sum, kThreads * kIters * 0.5);
}

TEST(RegistryDeathTest, MisuseAborts) {
  MetricsRegistry registry;
  CounterFamily* family = registry.AddCounterFamily("f_total", "", {"a", "b"});
  EXPECT_DEATH(family->WithLabels({"only_one"}), "got 1 label values for labels \\(a,b\\)");
  EXPECT_DEATH(registry.AddGauge("f_total", ""), "f_total: already registered as a counter");
  EXPECT_DEATH(registry.AddCounterFamily("f_total", "", {"a"}), "already registered");
  EXPECT_DEATH(registry.AddCounter("1bad", ""), "invalid metric name");
  EXPECT_DEATH(registry.AddCounterFamily("x_total", "", {"__reserved"}), "invalid label name");
  EXPECT_DEATH(registry.AddCounterFamily("x_total", "", {"a", "a"}), "duplicate label");
  EXPECT_DEATH(registry.AddHistogramFamily("h", "", {"le"}, {1}), "label named \"le\"");
  EXPECT_DEATH(registry.AddHistogram("h", "", {2, 1}), "buckets");
  registry.AddHistogram("h2", "", {1, 2});
  EXPECT_DEATH(registry.AddHistogram("h2", "", {1, 3}), "other buckets");
}

}  // namespace
}  // namespace shale::metrics
