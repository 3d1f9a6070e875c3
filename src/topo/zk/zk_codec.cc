#include "topo/zk/zk_codec.h"

#include <zookeeper/zookeeper.h>

#include "absl/strings/str_cat.h"

namespace shale::topo::zk_internal {

std::string EncodeValue(absl::string_view value) {
  std::string data;
  data.reserve(value.size() + 1);
  data.push_back(kValueMarker);
  data.append(value.data(), value.size());
  return data;
}

std::optional<std::string> DecodeValue(absl::string_view data) {
  if (data.empty()) return std::nullopt;
  if (data[0] == kValueMarker) return std::string(data.substr(1));
  return std::string(data);
}

std::string ZkPaths::ToZk(absl::string_view path) const {
  if (path == "/") return root_;
  return absl::StrCat(root_, path);
}

std::string ZkPaths::FromZk(absl::string_view zpath) const {
  if (zpath.size() <= root_.size()) return "/";
  return std::string(zpath.substr(root_.size()));
}

std::string ZkPaths::ParentOf(absl::string_view zpath) const {
  if (zpath.size() <= root_.size()) return "";
  size_t slash = zpath.rfind('/');
  return std::string(zpath.substr(0, slash));
}

absl::Status ZkError(int rc, absl::string_view what, absl::string_view path) {
  const std::string where = absl::StrCat("zk ", what, " ", path, ": ");
  switch (rc) {
    case ZOK:
      return absl::OkStatus();
    case ZNONODE:
      return absl::NotFoundError(absl::StrCat(where, "no node"));
    case ZNODEEXISTS:
      return absl::AlreadyExistsError(absl::StrCat(where, "node exists"));
    case ZBADVERSION:
      return absl::AbortedError(absl::StrCat(where, "version mismatch"));
    case ZOPERATIONTIMEOUT:
      return absl::UnavailableError(absl::StrCat(where, "ZooKeeper did not answer in time"));
    case ZCONNECTIONLOSS:
    case ZSESSIONEXPIRED:
    case ZINVALIDSTATE:
    case ZCLOSING:
    case ZSESSIONMOVED:
    case ZNOTHING:
      return absl::UnavailableError(
          absl::StrCat(where, "not connected to ZooKeeper (", zerror(rc), ")"));
    default:
      return absl::InternalError(absl::StrCat(where, zerror(rc)));
  }
}

}  // namespace shale::topo::zk_internal
