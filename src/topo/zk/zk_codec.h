#pragma once

// Internal to topo/zk: how Shale's paths and values sit in ZooKeeper.
//
// Paths: Shale path P is the znode ROOT + P ("/global/a" -> "/shale/global/a";
// "/" -> "/shale"). Every znode below ROOT belongs to Shale.
//
// Values: ZooKeeper needs a node's parents to exist, while Shale's directories
// are implicit. So a znode that holds a value stores kValueMarker followed by
// the value bytes (an empty value is the single marker byte), and a znode with
// empty data holds no value: it only exists for its children (a directory) or
// is a lock waiter (see zk_lock.h). Readers tell the two apart from
// Stat.dataLength alone. Data written by other tools (not starting with the
// marker) reads as the raw bytes.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shale::topo::zk_internal {

inline constexpr char kValueMarker = 'v';

std::string EncodeValue(absl::string_view value);
// nullopt for empty data: the node holds no value.
std::optional<std::string> DecodeValue(absl::string_view data);

// Maps Shale paths onto znodes below root. Immutable.
class ZkPaths {
 public:
  // root: a valid Shale path ("/shale"), not "/".
  explicit ZkPaths(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  // path: a valid Shale path or dir.
  std::string ToZk(absl::string_view path) const;
  // zpath: root or a znode below it.
  std::string FromZk(absl::string_view zpath) const;
  // The znode's parent; empty for root.
  std::string ParentOf(absl::string_view zpath) const;

 private:
  const std::string root_;
};

// The Status for a ZooKeeper result code, naming the operation and path:
// NotFound (ZNONODE), AlreadyExists (ZNODEEXISTS), Aborted (ZBADVERSION),
// Unavailable (connection loss, expiry, timeouts: the ensemble is down or
// unreachable), Internal for anything else. OK for ZOK.
absl::Status ZkError(int rc, absl::string_view what, absl::string_view path);

}  // namespace shale::topo::zk_internal
