// Runs the conformance suite against the in-memory backend: one fresh
// MemoryServer per test.

#include "topo/conformance/conformance_suite.h"
#include "topo/memory/memory_server.h"

namespace shale::topo::conformance {
namespace {

class MemoryFixture : public BackendFixture {
 public:
  absl::StatusOr<std::unique_ptr<Conn>> NewConn(const ConnOptions& options) override {
    return server_.NewConn();  // options only concern leases, which memory has none of
  }
  std::string address() const override { return ""; }
  bool Supports(Feature feature) const override { return false; }

 private:
  MemoryServer server_;
};

INSTANTIATE_TEST_SUITE_P(Memory, TopoConformanceTest,
                         ::testing::Values(BackendSpec{
                             "memory", [] { return std::make_unique<MemoryFixture>(); }}),
                         BackendSpecName);

}  // namespace
}  // namespace shale::topo::conformance
