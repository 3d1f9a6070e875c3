// EtcdConn against a three-member etcd cluster: failover between the
// endpoints of one address, and a watch that resumes after a compaction.

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "etcd/etcd_rpc.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "topo/etcd/etcd_conn.h"
#include "topo/etcd/etcd_test_server.h"
#include "topo/etcd/etcd_test_util.h"

namespace shale::topo {
namespace {

using etcd_test::Describe;
using etcd_test::HasKind;
using etcd_test::HasValue;
using etcd_test::Recorder;
using Kind = WatchEvent::Kind;

// Compacts the history of the cluster behind endpoint up to revision.
absl::Status Compact(const std::string& endpoint, int64_t revision) {
  auto stub = etcdserverpb::KV::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(true);
  etcdserverpb::CompactionResponse response;
  grpc::Status status = stub->Compact(&ctx, request, &response);
  if (!status.ok()) return absl::InternalError(status.error_message());
  return absl::OkStatus();
}

// The first member of the address goes away: calls, the watch and the
// lock's lease renewals all move on to the other members.
TEST(EtcdClusterTest, FailsOverToTheNextEndpoint) {
  auto cluster = EtcdTestServer::Start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ConnOptions options;
  options.lock_ttl = absl::Seconds(1);
  auto conn = EtcdConn::Open((*cluster)->Address("/failover"), options);
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto other = EtcdConn::Open((*cluster)->AddressOf({1, 2}, "/failover"), {});
  ASSERT_TRUE(other.ok()) << other.status();
  auto v1 = (*conn)->Create("/x", "1");
  ASSERT_TRUE(v1.ok()) << v1.status();
  Recorder recorder;
  auto watch = (*conn)->Watch("/x", recorder.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto lock = (*conn)->Lock("/ks", "holder", absl::Seconds(5));
  ASSERT_TRUE(lock.ok()) << lock.status();

  ASSERT_TRUE((*cluster)->Stop(0).ok());
  auto v2 = (*conn)->Update("/x", "2", *v1);
  ASSERT_TRUE(v2.ok()) << v2.status();
  auto got = (*conn)->Get("/x");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->value, "2");
  auto events = recorder.WaitUntil([](auto& e) { return HasValue(e, "2"); });
  EXPECT_TRUE(HasKind(events, Kind::kError)) << Describe(events);
  ASSERT_TRUE(HasValue(events, "2")) << Describe(events);
  EXPECT_EQ(events.back().version, *v2);

  // The lease (TTL 1s) is still being renewed through another member: the
  // lock stays taken well past its TTL (a new etcd leader extends leases by
  // about one TTL, hence 3 TTLs).
  auto stolen = (*other)->Lock("/ks", "thief", absl::Seconds(3));
  EXPECT_EQ(stolen.status().code(), absl::StatusCode::kDeadlineExceeded) << stolen.status();
  EXPECT_TRUE((*lock)->Check().ok());
  EXPECT_TRUE((*lock)->Unlock().ok());
}

// A watcher disconnected while the history it needs is compacted away falls
// back to the current state: kDeleted for what disappeared, then kChanged for
// every value.
TEST(EtcdClusterTest, WatchFallsBackToTheCurrentStateAfterACompaction) {
  auto cluster = EtcdTestServer::Start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto watcher = EtcdConn::Open((*cluster)->AddressOf({0}, "/compact"), {});
  auto writer = EtcdConn::Open((*cluster)->AddressOf({1, 2}, "/compact"), {});
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Create("/d/a", "a1").ok());
  ASSERT_TRUE((*writer)->Create("/d/b", "b1").ok());
  Recorder recorder;
  auto watch = (*watcher)->WatchDir("/d", recorder.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status();

  ASSERT_TRUE((*cluster)->Stop(0).ok());
  recorder.WaitUntil([](auto& e) { return HasKind(e, Kind::kError); });
  ASSERT_TRUE((*writer)->Update("/d/a", "a2", std::nullopt).ok());
  ASSERT_TRUE((*writer)->Delete("/d/b", std::nullopt).ok());
  auto last = (*writer)->Create("/d/c", "c1");
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_TRUE(Compact((*cluster)->endpoint(1), *last).ok());
  ASSERT_TRUE((*cluster)->Restart(0).ok());

  auto events = recorder.WaitUntil([](auto& e) { return HasValue(e, "c1"); });
  ASSERT_EQ(events.size(), 4u) << Describe(events);
  EXPECT_EQ(events[0].kind, Kind::kError);
  EXPECT_EQ(events[1].kind, Kind::kDeleted);
  EXPECT_EQ(events[1].path, "/d/b");
  EXPECT_EQ(events[2].path, "/d/a");
  EXPECT_EQ(events[2].value, "a2");
  EXPECT_EQ(events[3].path, "/d/c");
  EXPECT_EQ(events[3].version, *last);
}

}  // namespace
}  // namespace shale::topo
