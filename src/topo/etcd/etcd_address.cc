#include "topo/etcd/etcd_address.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "topo/path.h"

namespace shale::topo {
namespace {

constexpr absl::string_view kScheme = "etcd://";
constexpr absl::string_view kDefaultPort = "2379";

// "host:port" with a valid port, or "host" (given the default port).
absl::StatusOr<std::string> ParseEndpoint(absl::string_view address, absl::string_view endpoint) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd address '", address, "': endpoint '", endpoint, "' ", why));
  };
  if (endpoint.empty()) return bad("is empty");
  absl::string_view host = endpoint;
  absl::string_view port;
  if (endpoint.front() == '[') {  // [v6]:port
    size_t close = endpoint.find(']');
    if (close == absl::string_view::npos) return bad("has no closing ']'");
    host = endpoint.substr(0, close + 1);
    absl::string_view rest = endpoint.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("has junk after ']'");
      port = rest.substr(1);
      if (port.empty()) return bad("has an empty port");
    }
  } else if (size_t colon = endpoint.rfind(':'); colon != absl::string_view::npos) {
    host = endpoint.substr(0, colon);
    port = endpoint.substr(colon + 1);
    if (port.empty()) return bad("has an empty port");
  }
  if (host.empty() || host == "[]") return bad("has no host");
  if (absl::StrContains(host, '/')) return bad("contains '/'");
  if (port.empty()) port = kDefaultPort;
  int port_number = 0;
  if (!absl::SimpleAtoi(port, &port_number) || port_number < 1 || port_number > 65535) {
    return bad("has a bad port (want 1-65535)");
  }
  return absl::StrCat(host, ":", port_number);
}

}  // namespace

absl::StatusOr<EtcdAddress> ParseEtcdAddress(absl::string_view address) {
  if (!absl::StartsWith(address, kScheme)) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd address '", address, "' must start with etcd://"));
  }
  absl::string_view rest = address.substr(kScheme.size());
  absl::string_view hosts = rest;
  absl::string_view root;
  // The first '/' outside brackets starts the root.
  bool in_brackets = false;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '[') in_brackets = true;
    if (rest[i] == ']') in_brackets = false;
    if (rest[i] == '/' && !in_brackets) {
      hosts = rest.substr(0, i);
      root = rest.substr(i);
      break;
    }
  }
  EtcdAddress result;
  if (hosts.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "etcd address '", address, "' names no server: use etcd://HOST:PORT[,HOST:PORT]/ROOT"));
  }
  for (absl::string_view endpoint : absl::StrSplit(hosts, ',')) {
    auto parsed = ParseEndpoint(address, endpoint);
    if (!parsed.ok()) return parsed.status();
    result.endpoints.push_back(*std::move(parsed));
  }
  if (!root.empty() && root != "/") {
    absl::Status valid = ValidatePath(root);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd address '", address, "': bad root: ", valid.message()));
    }
    result.root = std::string(root);
  }
  return result;
}

}  // namespace shale::topo
