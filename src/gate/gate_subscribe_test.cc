// Gate.Subscribe in-process: GateService on a gRPC server over the memory
// topology, with fake tablets serving Changes.Subscribe (src/changes): events
// of both shards with keyspace positions, a resume from one, and the errors
// a client sees (bad `from`, unknown keyspace).

#include <set>

#include "absl/strings/match.h"
#include "changes/fake_changes_tablet.h"
#include "gate/gate_service.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"

namespace shale::gate {
namespace {

using ::testing::HasSubstr;

class GateSubscribeTest : public ::testing::Test {
 protected:
  GateSubscribeTest() : ts_(topo::MemoryServer::NewStandaloneConn({})) {}
  void SetUp() override {
    ASSERT_TRUE(ts_.AddCellInfo("zone1", {}).ok());
    ASSERT_TRUE(ts_.CreateKeyspace("app", {}).ok());
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(ts_.CreateShard("app", kShards[i]).ok());
      tablets_.push_back(std::make_unique<changes::FakeChangesTablet>(
          &logs_[i], topo::TabletAlias{"zone1", static_cast<uint32_t>(100 * (i + 1))}));
      tablets_.back()->Register(ts_, "app", kShards[i], topodata::PRIMARY);
    }
    ctx_.cell = "zone1";
    ctx_.ts = &ts_;
    service_ = std::make_unique<GateService>(&ctx_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = Gate::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  // Reads row events until n arrived; the status if the stream ended first.
  grpc::Status Read(const std::string& from, size_t n, std::vector<SubscribeEvent>* out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    SubscribeRequest request;
    request.set_keyspace("app");
    request.set_from(from);
    request.set_heartbeat_ms(50);
    auto reader = stub_->Subscribe(&context, request);
    SubscribeResponse response;
    bool first = true;
    while (out->size() < n && reader->Read(&response)) {
      if (first) {  // the stream is open: now write
        first = false;
        if (on_open_) on_open_();
      }
      for (const SubscribeEvent& e : response.events()) {
        if (e.event().op() != tablet::HEARTBEAT_EVENT) out->push_back(e);
      }
    }
    if (out->size() < n) return reader->Finish();  // ended early: its status
    context.TryCancel();
    reader->Finish();
    return grpc::Status::OK;
  }

  static constexpr const char* kShards[] = {"-80", "80-"};
  topo::Server ts_;
  changes::FakeShardLog logs_[2];
  std::vector<std::unique_ptr<changes::FakeChangesTablet>> tablets_;
  GateContext ctx_;
  std::unique_ptr<GateService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Gate::Stub> stub_;
  std::function<void()> on_open_;
};

TEST_F(GateSubscribeTest, StreamsEveryShardWithPositionsAndResumes) {
  on_open_ = [&] {
    logs_[0].AppendInserts("t", 1, 2);
    logs_[1].AppendInserts("t", 3, 1);
  };
  std::vector<SubscribeEvent> events;
  ASSERT_TRUE(Read("now", 3, &events).ok());
  ASSERT_EQ(events.size(), 3u);
  std::set<int64_t> ids;
  for (const SubscribeEvent& e : events) {
    ids.insert(e.event().pk(0).value().int64());
    EXPECT_EQ(e.event().table(), "t");
  }
  EXPECT_EQ(ids, (std::set<int64_t>{1, 2, 3}));
  const std::string last = events.back().position();
  EXPECT_TRUE(absl::StrContains(last, "-80:1.1.0") || absl::StrContains(last, "-80:1.1.1")) << last;

  on_open_ = [&] { logs_[1].AppendInserts("t", 4, 1); };
  std::vector<SubscribeEvent> more;
  const std::string resume = events[0].position();
  ASSERT_TRUE(Read(resume, 3, &more).ok());
  std::set<int64_t> rest;
  for (const SubscribeEvent& e : more) rest.insert(e.event().pk(0).value().int64());
  std::set<int64_t> expected = {4};
  for (size_t i = 1; i < events.size(); ++i)
    expected.insert(events[i].event().pk(0).value().int64());
  EXPECT_EQ(rest, expected);
}

TEST_F(GateSubscribeTest, ErrorsReachTheClient) {
  std::vector<SubscribeEvent> events;
  grpc::Status bad = Read("-80:1.x.0,80-:1.1.0", 1, &events);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("TERM \"x\""));
  grpc::Status missing = Read("-80:1.1.0", 1, &events);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(missing.error_message(), HasSubstr("lacks shard(s) 80-"));
  grpc::ClientContext context;
  SubscribeRequest request;
  request.set_keyspace("nope");
  auto reader = stub_->Subscribe(&context, request);
  SubscribeResponse response;
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace shale::gate
