#include "topo/open/open.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "topo/etcd/etcd_conn.h"
#include "topo/memory/memory_server.h"
#include "topo/sqlite/sqlite_conn.h"
#include "topo/zk/zk_conn.h"

namespace shale::topo {
namespace {

template <typename Backend>
absl::StatusOr<std::unique_ptr<Conn>> Upcast(absl::StatusOr<std::unique_ptr<Backend>> conn) {
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<Conn>(std::move(*conn));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Conn>> OpenConn(absl::string_view address,
                                               const ConnOptions& options) {
  if (address == "memory:" || address == "memory") {
    return MemoryServer::NewStandaloneConn(options);
  }
  if (absl::StartsWith(address, "sqlite:")) {
    absl::string_view path = address.substr(7);
    if (path.empty()) {
      return absl::InvalidArgumentError("topology address 'sqlite:' needs a file path, e.g. sqlite:/var/lib/shale/topo.db");
    }
    return Upcast(SqliteConn::Open(std::string(path), options));
  }
  if (absl::StartsWith(address, "etcd://")) {
    return Upcast(EtcdConn::Open(address, options));
  }
  if (absl::StartsWith(address, "zk://")) {
    return Upcast(ZkConn::Open(address, options));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown topology address '", address,
                   "': use sqlite:PATH, etcd://HOST:PORT/ROOT, zk://HOST:PORT/ROOT or memory:"));
}

}  // namespace shale::topo
