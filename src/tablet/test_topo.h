#pragma once

// Helpers for the tablet's unit tests: a memory topology with cell zone1
// registered, and a temp dir that removes itself.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "topo/memory/memory_server.h"
#include "topo/server.h"

namespace shale::tablet {

struct TestTopo {
  TestTopo() : ts(memory.NewConn()) {
    absl::Status s = ts.AddCellInfo("zone1", topodata::CellInfo());
    if (!s.ok()) abort();
  }
  topo::MemoryServer memory;
  topo::Server ts;
};

class TestDir {
 public:
  TestDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/tablet_test.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) abort();
    path_ = tmpl;
  }
  ~TestDir() { std::filesystem::remove_all(path_); }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace shale::tablet
