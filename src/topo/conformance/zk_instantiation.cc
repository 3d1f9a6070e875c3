// Runs the conformance suite against the ZooKeeper backend: one real
// ZooKeeper server (Debian's zookeeper package) per test process, started by
// the first test that needs it and killed at exit, and a fresh ROOT per test.
// Not instantiated when the server's jar is missing.

#include <unistd.h>

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "topo/conformance/conformance_suite.h"
#include "topo/zk/zk_conn.h"
#include "topo/zk/zk_test_server.h"

namespace shale::topo::conformance {
namespace {

// The process's server: started on first use, killed (and its dir removed) at exit.
ZkTestServer* SharedServer() {
  static absl::StatusOr<std::unique_ptr<ZkTestServer>> server = ZkTestServer::Start();
  if (!server.ok()) {
    ADD_FAILURE() << "starting ZooKeeper: " << server.status();
    return nullptr;
  }
  return server->get();
}

class ZkFixture : public BackendFixture {
 public:
  explicit ZkFixture(ZkTestServer* server) : server_(server) {
    static int counter = 0;
    root_ = absl::StrCat("/conformance_", getpid(), "_", ++counter);
  }

  absl::StatusOr<std::unique_ptr<Conn>> NewConn(const ConnOptions& options) override {
    if (server_ == nullptr) return absl::UnavailableError("the ZooKeeper test server did not start");
    auto conn = ZkConn::Open(address(), options);
    if (!conn.ok()) return conn.status();
    return std::unique_ptr<Conn>(std::move(*conn));
  }
  std::string address() const override {
    return server_ != nullptr ? server_->Address(root_) : "";
  }
  bool Supports(Feature feature) const override {
    return feature == Feature::kCrossProcess || feature == Feature::kWatchCoalescesWrites;
  }

 private:
  ZkTestServer* const server_;  // the process's server, or null if it failed to start
  std::string root_;
};

std::vector<BackendSpec> ZkSpecs() {
  if (!std::filesystem::exists("/usr/share/java/zookeeper.jar") &&
      getenv("SHALE_ZK_CLASSPATH") == nullptr) {
    return {};  // no ZooKeeper server installed: nothing to run against
  }
  return {BackendSpec{"zk", [] { return std::make_unique<ZkFixture>(SharedServer()); }}};
}

INSTANTIATE_TEST_SUITE_P(Zk, TopoConformanceTest, ::testing::ValuesIn(ZkSpecs()),
                         BackendSpecName);

}  // namespace
}  // namespace shale::topo::conformance
