#pragma once

// Opens a topology connection from an address (DESIGN §2):
//   memory:               a fresh in-process server, for tests and dry runs
//   sqlite:PATH           the embedded default, shared by processes on one machine
//   etcd://H:P[,H:P]/ROOT   etcd v3; the first live endpoint serves
//   zk://H:P[,H:P]/ROOT     ZooKeeper ensemble

#include <memory>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "topo/conn.h"

namespace shale::topo {

// InvalidArgument for a malformed or unknown address; Unavailable when the
// server cannot be reached; NotFound when a sqlite file is missing and
// options.create_if_missing is false.
absl::StatusOr<std::unique_ptr<Conn>> OpenConn(absl::string_view address,
                                               const ConnOptions& options = {});

}  // namespace shale::topo
