#pragma once

// The etcd topology backend, `etcd://HOST:PORT[,HOST:PORT...]/ROOT`
// (DESIGN §2), over etcd's v3 gRPC API.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<EtcdConn> conn,
//                    EtcdConn::Open("etcd://10.0.0.1:2379,10.0.0.2:2379/shale", {}));
//
// Mapping (see README.md for the key layout):
//   - a path is the key ROOT + path; its Version is the key's mod_revision;
//   - Create is a Txn "create_revision == 0 -> Put"; a versioned Update or
//     Delete is a Txn "mod_revision == v -> Put/Delete" whose failure branch
//     reads the key to tell NotFound from Aborted;
//   - ListDir is a keys-only Range over the directory's prefix;
//   - Watch/WatchDir read the current state at a revision and stream every
//     change after it (EtcdWatch), resuming by revision after an outage;
//   - Lock(dir) creates ROOT + dir/locks/lock attached to a lease of
//     ConnOptions::lock_ttl that a background thread keeps alive.
//
// Errors: besides the codes of topo/conn.h, every method returns
// InvalidArgument for a malformed path and Unavailable (one line, naming the
// endpoint) when no endpoint of the address answers within
// EtcdClientOptions::call_timeout. Endpoints are tried in order, and a call
// that finds one unreachable fails over to the next.
//
// Lifecycle: Open() checks that some endpoint answers. Watch and lock
// handles may outlive the Conn (they share its gRPC channels). Owned by its
// creator (usually topo::Server). Thread-safe: any thread may call any method.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "topo/conn.h"
#include "topo/etcd/etcd_client.h"
#include "topo/etcd/etcd_keys.h"

namespace shale::topo {

class EtcdConn : public Conn {
 public:
  // InvalidArgument for a malformed address (see topo/etcd/etcd_address.h);
  // Unavailable if no endpoint answers.
  static absl::StatusOr<std::unique_ptr<EtcdConn>> Open(absl::string_view address,
                                                        const ConnOptions& options,
                                                        const EtcdClientOptions& client_options = {});
  ~EtcdConn() override;
  EtcdConn(const EtcdConn&) = delete;
  EtcdConn& operator=(const EtcdConn&) = delete;

  absl::StatusOr<Version> Create(absl::string_view path, absl::string_view value) override;
  absl::StatusOr<Versioned> Get(absl::string_view path) override;
  absl::StatusOr<Version> Update(absl::string_view path, absl::string_view value,
                                 std::optional<Version> expected) override;
  absl::Status Delete(absl::string_view path, std::optional<Version> expected) override;
  absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view dir) override;
  absl::StatusOr<std::unique_ptr<LockHandle>> Lock(absl::string_view dir,
                                                   absl::string_view contents,
                                                   absl::Duration timeout) override;
  absl::StatusOr<WatchStart> Watch(absl::string_view path, WatchCallback cb) override;
  absl::StatusOr<DirWatchStart> WatchDir(absl::string_view dir, WatchCallback cb) override;

  // The key prefix of this Conn's paths ("" or e.g. "/shale").
  const std::string& root() const { return keys_.root(); }

 private:
  EtcdConn(std::shared_ptr<etcd_internal::EtcdClient> client, std::string root,
           ConnOptions options);

  const std::shared_ptr<etcd_internal::EtcdClient> client_;
  const etcd_internal::EtcdKeys keys_;
  const ConnOptions options_;
};

}  // namespace shale::topo
