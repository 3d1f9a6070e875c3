// Runs the conformance suite against the sqlite backend: one fresh database
// file, in a temp dir removed after the test, per test.

#include <stdlib.h>

#include <filesystem>

#include "topo/conformance/conformance_suite.h"
#include "topo/sqlite/sqlite_conn.h"

namespace shale::topo::conformance {
namespace {

class SqliteFixture : public BackendFixture {
 public:
  SqliteFixture() {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/shale_topo_conformance_XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }
  ~SqliteFixture() override {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  absl::StatusOr<std::unique_ptr<Conn>> NewConn(const ConnOptions& options) override {
    if (dir_.empty()) return absl::InternalError("could not create a temp dir");
    auto conn = SqliteConn::Open(db_path(), options);
    if (!conn.ok()) return conn.status();
    return std::unique_ptr<Conn>(std::move(*conn));
  }
  std::string address() const override { return "sqlite:" + db_path(); }
  bool Supports(Feature feature) const override { return feature == Feature::kCrossProcess; }

 private:
  std::string db_path() const { return dir_ + "/topo.db"; }

  std::string dir_;  // empty if mkdtemp failed
};

INSTANTIATE_TEST_SUITE_P(Sqlite, TopoConformanceTest,
                         ::testing::Values(BackendSpec{
                             "sqlite", [] { return std::make_unique<SqliteFixture>(); }}),
                         BackendSpecName);

}  // namespace
}  // namespace shale::topo::conformance
