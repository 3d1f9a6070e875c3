// Tests of the tablet's status port: /healthz, /metrics, /debug/status and
// /debug/vars of an in-process TabletServer.

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tablet/client/tablet_client.h"
#include "tablet/tablet_server.h"
#include "tablet/test_topo.h"

namespace shale::tablet {
namespace {

using ::testing::HasSubstr;

TEST(TabletHttpTest, ServesHealthMetricsAndStatus) {
  TestTopo topo;
  TestDir dir;
  TabletServerOptions o;
  o.alias = {"zone1", 7};
  o.keyspace = "app";
  o.shard = "0";
  o.init_type = topodata::PRIMARY;
  o.data_dir = dir.path();
  auto server = TabletServer::Start(&topo.ts, o);
  ASSERT_TRUE(server.ok()) << server.status();
  const int http_port = (*server)->http_port();
  ASSERT_GT(http_port, 0);
  auto rec = topo.ts.GetTablet({"zone1", 7});
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->record.port_map().at("http"), http_port);

  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string((*server)->grpc_port()));
  ExecuteRequest req;
  req.mutable_target()->set_keyspace("app");
  req.mutable_target()->set_shard("0");
  req.mutable_target()->set_tablet_type(topodata::PRIMARY);
  req.set_sql("SELECT 1");
  ASSERT_TRUE(c->Call(c->query(), &Query::Stub::Execute, req).ok());
  req.set_sql("SELECT * FROM missing");
  ASSERT_FALSE(c->Call(c->query(), &Query::Stub::Execute, req).ok());

  httplib::Client http("127.0.0.1", http_port);
  auto healthz = http.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("shale_tablet_queries_total{kind=\"execute\"} 2"));
  EXPECT_THAT(metrics->body,
              HasSubstr("shale_tablet_query_errors_total{kind=\"execute\",code=\"NOT_FOUND\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("shale_tablet_query_seconds_bucket{kind=\"execute\""));
  EXPECT_THAT(metrics->body, HasSubstr("shale_tablet_open_transactions 0"));
  auto status = http.Get("/debug/status");
  ASSERT_TRUE(status);
  EXPECT_THAT(status->body, HasSubstr("zone1-7"));
  EXPECT_THAT(status->body, HasSubstr("PRIMARY"));
  auto vars = http.Get("/debug/vars");
  ASSERT_TRUE(vars);
  EXPECT_THAT(vars->body, HasSubstr("\"tablet\""));
  EXPECT_THAT(vars->body, HasSubstr("\"tablet_type\": \"PRIMARY\""));
}

}  // namespace
}  // namespace shale::tablet
