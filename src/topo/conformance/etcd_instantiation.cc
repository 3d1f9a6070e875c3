// Runs the conformance suite against the etcd backend: one real etcd per test
// process (EtcdTestServer::Shared, started on first use and killed at exit),
// and a fresh ROOT key prefix per test, so tests never see each other's data.

#include <string>

#include "absl/strings/str_cat.h"
#include "topo/conformance/conformance_suite.h"
#include "topo/etcd/etcd_conn.h"
#include "topo/etcd/etcd_test_server.h"

namespace shale::topo::conformance {
namespace {

class EtcdFixture : public BackendFixture {
 public:
  EtcdFixture() {
    static int next_root = 0;
    root_ = absl::StrCat("/conformance_", ++next_root);
    auto server = EtcdTestServer::Shared();
    if (server.ok()) {
      server_ = *server;
    } else {
      error_ = server.status();
    }
  }

  absl::StatusOr<std::unique_ptr<Conn>> NewConn(const ConnOptions& options) override {
    if (server_ == nullptr) return error_;
    auto conn = EtcdConn::Open(address(), options);
    if (!conn.ok()) return conn.status();
    return std::unique_ptr<Conn>(std::move(*conn));
  }
  std::string address() const override {
    return server_ == nullptr ? "" : server_->Address(root_);
  }
  bool Supports(Feature feature) const override { return feature == Feature::kCrossProcess; }

 private:
  std::string root_;
  EtcdTestServer* server_ = nullptr;  // the process-wide server; not owned
  absl::Status error_;
};

INSTANTIATE_TEST_SUITE_P(Etcd, TopoConformanceTest,
                         ::testing::Values(BackendSpec{
                             "etcd", [] { return std::make_unique<EtcdFixture>(); }}),
                         BackendSpecName);

}  // namespace
}  // namespace shale::topo::conformance
