#include "ctl/topo_browse.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ctl/record_json.h"
#include "topo/path.h"

namespace shale::ctl {
namespace {

absl::Status CollectPaths(topo::Conn& conn, absl::string_view dir, nlohmann::json& out) {
  ASSIGN_OR_RETURN(std::vector<topo::DirEntry> entries, conn.ListDir(dir));
  for (const topo::DirEntry& e : entries) {
    std::string child = topo::JoinPath(dir, e.name);
    if (e.has_value) out.push_back(child);
    if (e.has_children) {
      absl::Status s = CollectPaths(conn, child, out);
      if (!s.ok() && !absl::IsNotFound(s)) return s;  // emptied while we walked
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<nlohmann::json> TopoLs(topo::Conn& conn, absl::string_view dir, bool recursive) {
  nlohmann::json out = nlohmann::json::array();
  if (recursive) {
    RETURN_IF_ERROR(CollectPaths(conn, dir, out));
    return out;
  }
  ASSIGN_OR_RETURN(std::vector<topo::DirEntry> entries, conn.ListDir(dir));
  for (const topo::DirEntry& e : entries) {
    out.push_back({{"name", e.name}, {"has_value", e.has_value}, {"has_children", e.has_children}});
  }
  return out;
}

absl::StatusOr<nlohmann::json> TopoCat(topo::Conn& conn, absl::string_view path) {
  ASSIGN_OR_RETURN(topo::Versioned v, conn.Get(path));
  ASSIGN_OR_RETURN(nlohmann::json value, DecodeTopoValue(path, v.value));
  return nlohmann::json{{"path", std::string(path)}, {"version", v.version}, {"value", value}};
}

}  // namespace shale::ctl
