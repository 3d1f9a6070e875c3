#include "topo/zk/zk_address.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "topo/path.h"

namespace shale::topo {
namespace {

constexpr char kScheme[] = "zk://";

absl::Status Bad(absl::string_view address, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "topology address '", address, "': ", why, " (want zk://HOST:PORT[,HOST:PORT...]/ROOT)"));
}

}  // namespace

absl::StatusOr<ZkAddress> ParseZkAddress(absl::string_view address) {
  if (!absl::StartsWith(address, kScheme)) return Bad(address, "does not start with zk://");
  absl::string_view rest = address.substr(sizeof(kScheme) - 1);
  size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) return Bad(address, "has no root path");
  absl::string_view hosts = rest.substr(0, slash);
  absl::string_view root = rest.substr(slash);
  if (hosts.empty()) return Bad(address, "has no host");
  for (absl::string_view host : absl::StrSplit(hosts, ',')) {
    size_t colon = host.rfind(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return Bad(address, absl::StrCat("'", host, "' is not HOST:PORT"));
    }
    int port;
    if (!absl::SimpleAtoi(host.substr(colon + 1), &port) || port < 1 || port > 65535) {
      return Bad(address, absl::StrCat("'", host, "' has no valid port"));
    }
  }
  if (root == "/") return Bad(address, "needs a root below /, e.g. /shale");
  if (absl::Status s = ValidatePath(root); !s.ok()) {
    return Bad(address, absl::StrCat("root '", root, "' is not a valid path"));
  }
  return ZkAddress{std::string(hosts), std::string(root)};
}

}  // namespace shale::topo
