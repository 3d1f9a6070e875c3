#pragma once

// A memory topology with cell zone1 registered, for the tablet's unit tests.

#include <memory>

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

}  // namespace shale::tablet
