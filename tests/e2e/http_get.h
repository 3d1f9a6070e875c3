#pragma once

// GETs of the HTTP pages of `shale` processes (status ports, ctld's
// dashboard) for end-to-end tests. Tests that include it link cpp-httplib.

#include <httplib.h>

#include <string>

#include "nlohmann/json.hpp"

namespace shale::e2e {

// GET http://127.0.0.1:port/path: the body, or "" on any failure.
inline std::string HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  httplib::Result r = client.Get(path);
  if (!r || r->status != 200) return "";
  return r->body;
}

// A JSON page; discarded (is_discarded()) on any failure.
inline nlohmann::json HttpGetJson(int port, const std::string& path) {
  return nlohmann::json::parse(HttpGet(port, path), nullptr, false);
}

// A ctld's side of the leader election, from its /debug/vars; null when it
// does not answer.
inline nlohmann::json CtldLeadership(int http_port) {
  nlohmann::json vars = HttpGetJson(http_port, "/debug/vars");
  return vars.is_discarded() ? nlohmann::json() : vars["vars"]["leadership"];
}

inline bool IsCtldLeader(int http_port) {
  nlohmann::json l = CtldLeadership(http_port);
  return l.is_object() && l["is_leader"] == true;
}

}  // namespace shale::e2e
