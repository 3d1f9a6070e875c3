#include "base/http/status_server.h"

#include <httplib.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// GETs path from the server; the result is empty if the request failed.
httplib::Result Get(const StatusServer& server, const std::string& path) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  return client.Get(path.c_str());
}

class StatusServerTest : public ::testing::Test {
 protected:
  StatusServerOptions Options() {
    StatusServerOptions options;
    options.process_name = "tablet";
    options.title = "tablet <zone1-100>";
    options.start_time = absl::FromUnixSeconds(1700000000);
    options.clock = [this] { return now_; };
    return options;
  }

  metrics::MetricsRegistry registry_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000) + absl::Seconds(90);
};

TEST_F(StatusServerTest, ServesBuiltinRoutes) {
  registry_.AddCounter("shale_queries_total", "Queries.")->Inc(5);
  StatusServer server(Options(), &registry_);
  server.AddVars("tablet", [] { return nlohmann::json{{"alias", "zone1-100"}}; });
  server.AddStatusSection("Replication <state>", [] { return std::string("<p>streaming</p>"); });
  ASSERT_EQ(server.port(), 0);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);
  EXPECT_EQ(server.address(), absl::StrCat("127.0.0.1:", server.port()));

  auto healthz = Get(server, "/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  EXPECT_EQ(healthz->body, "ok");
  EXPECT_EQ(healthz->get_header_value("Content-Type"), "text/plain; charset=utf-8");

  auto metrics = Get(server, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(metrics->body,
            "# HELP shale_queries_total Queries.\n"
            "# TYPE shale_queries_total counter\n"
            "shale_queries_total 5\n");

  auto vars = Get(server, "/debug/vars");
  ASSERT_TRUE(vars);
  EXPECT_EQ(vars->status, 200);
  EXPECT_EQ(vars->get_header_value("Content-Type"), "application/json");
  nlohmann::json doc = nlohmann::json::parse(vars->body);
  EXPECT_EQ(doc["process"]["name"], "tablet");
  EXPECT_EQ(doc["process"]["start_time"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(doc["process"]["uptime_seconds"], 90);
  EXPECT_EQ(doc["metrics"]["shale_queries_total"]["type"], "counter");
  EXPECT_EQ(doc["metrics"]["shale_queries_total"]["samples"][0]["value"], 5);
  EXPECT_EQ(doc["vars"]["tablet"]["alias"], "zone1-100");

  auto status = Get(server, "/debug/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(status->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(status->body, HasSubstr("<title>tablet &lt;zone1-100&gt;</title>"));
  EXPECT_THAT(status->body, HasSubstr("2023-11-14 22:13:20 UTC"));
  EXPECT_THAT(status->body, HasSubstr("<td>1m30s</td>"));
  EXPECT_THAT(status->body, HasSubstr("<h2>Replication &lt;state&gt;</h2>\n<p>streaming</p>"));
  EXPECT_THAT(status->body, HasSubstr("<a href=\"/metrics\">"));

  auto index = Get(server, "/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_THAT(index->body, HasSubstr("<a href=\"/debug/vars\">"));

  auto missing = Get(server, "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(StatusServerTest, FailingHealthCallbackGives503) {
  StatusServer server(Options(), &registry_);
  std::atomic<bool> healthy{false};
  server.SetHealthCallback([&]() -> absl::Status {
    if (healthy) return absl::OkStatus();
    return absl::UnavailableError("replication stopped");
  });
  ASSERT_TRUE(server.Start().ok());
  auto res = Get(server, "/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "UNAVAILABLE: replication stopped\n");
  auto status = Get(server, "/debug/status");
  ASSERT_TRUE(status);
  EXPECT_THAT(status->body, HasSubstr("UNAVAILABLE: replication stopped"));
  healthy = true;
  res = Get(server, "/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(StatusServerTest, PortConflictGivesClearError) {
  StatusServer first(Options(), &registry_);
  ASSERT_TRUE(first.Start().ok());
  StatusServerOptions options = Options();
  options.port = first.port();
  StatusServer second(options, &registry_);
  absl::Status status = second.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            absl::StrCat("cannot listen on 127.0.0.1:", first.port(), ": address in use"));
  EXPECT_EQ(second.port(), 0);
  // The first server is unaffected.
  auto res = Get(first, "/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(StatusServerTest, BadAddressIsInvalidArgument) {
  StatusServerOptions options = Options();
  options.bind_address = "192.0.2.1";  // TEST-NET-1: never a local address
  StatusServer server(options, &registry_);
  absl::Status status = server.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("cannot listen on 192.0.2.1:0: "));

  options = Options();
  options.port = 70000;
  StatusServer bad_port(options, &registry_);
  EXPECT_EQ(bad_port.Start().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StatusServerTest, StopFreesThePort) {
  StatusServer server(Options(), &registry_);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.Start().code(), absl::StatusCode::kFailedPrecondition);
  const int port = server.port();
  ASSERT_TRUE(Get(server, "/healthz"));
  server.Stop();
  server.Stop();  // idempotent
  EXPECT_EQ(server.port(), 0);
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  EXPECT_FALSE(client.Get("/healthz"));

  StatusServerOptions options = Options();
  options.port = port;
  StatusServer again(options, &registry_);
  ASSERT_TRUE(again.Start().ok());
  EXPECT_EQ(again.port(), port);
  auto res = Get(again, "/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  again.Stop();

  // A stopped server can start again.
  ASSERT_TRUE(server.Start().ok());
  EXPECT_TRUE(Get(server, "/healthz"));
}

TEST_F(StatusServerTest, CustomHandlers) {
  StatusServer server(Options(), &registry_);
  ASSERT_TRUE(server
                  .Handle("/echo",
                          [](const HttpRequest& req) {
                            return HttpResponse::Text(
                                200, absl::StrCat(req.method, " ", req.path, " name=",
                                                  req.Param("name", "?"), " body=", req.body));
                          })
                  .ok());
  EXPECT_EQ(server.Handle("/echo", [](const HttpRequest&) { return HttpResponse(); }).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(server.Handle("/healthz", [](const HttpRequest&) { return HttpResponse(); }).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(server.Handle("echo", [](const HttpRequest&) { return HttpResponse(); }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.Handle("/none", nullptr).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(server.Start().ok());

  // Routes can be added while serving; '/'-terminated routes serve a subtree.
  ASSERT_TRUE(server
                  .Handle("/dash/",
                          [](const HttpRequest& req) {
                            return HttpResponse::Html(201, "dash " + req.path);
                          })
                  .ok());
  ASSERT_TRUE(server
                  .Handle("/dash/deep/",
                          [](const HttpRequest& req) { return HttpResponse::Json(200, "{}"); })
                  .ok());
  ASSERT_TRUE(
      server
          .Handle("/boom",
                  [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); })
          .ok());

  auto res = Get(server, "/echo?name=a%20b&name=second");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "GET /echo name=a b body=");

  httplib::Client client("127.0.0.1", server.port());
  auto posted = client.Post("/echo", "payload", "text/plain");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->body, "POST /echo name=? body=payload");

  auto head = client.Head("/healthz");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");

  res = Get(server, "/dash/ks/shard");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res->body, "dash /dash/ks/shard");
  res = Get(server, "/dash/deep/x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  res = Get(server, "/dash");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);

  res = Get(server, "/boom");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_THAT(res->body, HasSubstr("kaboom"));
}

TEST_F(StatusServerTest, ReplaceIndexServesTheOwnersPageAtRoot) {
  StatusServer server(Options(), &registry_);
  server.ReplaceIndex([](const HttpRequest&) { return HttpResponse::Html(200, "dashboard"); });
  ASSERT_TRUE(server.Start().ok());
  auto res = Get(server, "/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "dashboard");
  res = Get(server, "/debug/status");  // still links the other routes
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("/metrics"));
}

TEST_F(StatusServerTest, NullRegistryAndConcurrentScrapes) {
  StatusServer server(Options(), nullptr);
  ASSERT_TRUE(server.Start().ok());
  auto res = Get(server, "/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");

  StatusServer with_metrics(Options(), &registry_);
  ASSERT_TRUE(with_metrics.Start().ok());
  metrics::Counter* counter = registry_.AddCounter("scrapes_total", "");
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        counter->Inc();
        auto r = Get(with_metrics, i % 2 == 0 ? "/metrics" : "/debug/vars");
        if (r && r->status == 200 && r->body.find("scrapes_total") != std::string::npos) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_THAT(Get(with_metrics, "/metrics")->body, Not(HasSubstr("NaN")));
}

}  // namespace
}  // namespace shale::http
