#pragma once

// Parsing of etcd topology addresses (DESIGN §2):
//
//   etcd://HOST:PORT[,HOST:PORT...]/ROOT
//
// HOST may be a name, an IPv4 address or a bracketed IPv6 address; a missing
// PORT means etcd's default client port, 2379. ROOT is a key prefix that
// every Shale path is appended to ("/shale" stores /global/x at key
// "/shale/global/x"), so several clusters can share one etcd. An empty ROOT
// ("etcd://h:p" or "etcd://h:p/") stores paths as keys unchanged.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shale::topo {

struct EtcdAddress {
  std::vector<std::string> endpoints;  // "host:port", in the order given
  std::string root;                    // "" or a valid topo path such as "/shale"
};

// InvalidArgument naming the problem for anything that is not a well-formed
// etcd:// address.
absl::StatusOr<EtcdAddress> ParseEtcdAddress(absl::string_view address);

}  // namespace shale::topo
