#pragma once

// Parses the ZooKeeper topology address zk://HOST:PORT[,HOST:PORT...]/ROOT.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shale::topo {

struct ZkAddress {
  std::string hosts;  // "h1:p1,h2:p2", as the ZooKeeper C client takes it
  std::string root;   // a valid topology path, never "/"
};

// InvalidArgument naming the problem: a missing scheme, host list, port or
// root, a port that is not a number in 1..65535, or a malformed root.
absl::StatusOr<ZkAddress> ParseZkAddress(absl::string_view address);

}  // namespace shale::topo
