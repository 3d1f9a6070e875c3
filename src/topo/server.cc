#include "topo/server.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/path.h"
#include "topo/paths.h"
#include "topo/records.h"

namespace shale::topo {

Server::Server(std::unique_ptr<Conn> global, ConnOpener opener, absl::Duration lock_ttl)
    : global_(std::move(global)), opener_(std::move(opener)), lock_ttl_(lock_ttl) {}

Server::~Server() = default;

absl::StatusOr<CellConn> Server::ForCell(absl::string_view cell) {
  RETURN_IF_ERROR(ValidateName("cell", cell));
  absl::StatusOr<topodata::CellInfo> info = GetCellInfo(cell);
  if (!info.ok()) return info.status();
  std::string root = info->root().empty() ? absl::StrCat("/", cell) : info->root();
  if (info->server_address().empty()) return CellConn{global_.get(), root};

  absl::MutexLock l(&mu_);
  auto it = cell_conns_.find(cell);
  if (it == cell_conns_.end()) {
    if (!opener_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cell ", cell, " lives on its own topology server ", info->server_address(),
          ", which this process cannot open"));
    }
    absl::StatusOr<std::unique_ptr<Conn>> conn = opener_(info->server_address());
    if (!conn.ok()) {
      return absl::Status(conn.status().code(),
                          absl::StrCat("cell ", cell, ": ", conn.status().message()));
    }
    it = cell_conns_.emplace(std::string(cell), *std::move(conn)).first;
  }
  return CellConn{it->second.get(), root};
}

absl::Status ValidateName(absl::string_view kind, absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && absl::ascii_isalpha(name[0]);
  for (char c : name) ok = ok && (absl::ascii_isalnum(c) || c == '_');
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid ", kind, " name \"", absl::CHexEscape(name),
      "\": use 1-64 letters, digits or underscores, starting with a letter"));
}

absl::Status DeleteRecursive(Conn& conn, absl::string_view dir) {
  absl::StatusOr<std::vector<DirEntry>> entries = conn.ListDir(dir);
  if (absl::IsNotFound(entries.status())) return absl::OkStatus();
  RETURN_IF_ERROR(entries.status());
  for (const DirEntry& e : *entries) {
    std::string child = JoinPath(dir, e.name);
    if (e.has_children) RETURN_IF_ERROR(DeleteRecursive(conn, child));
    if (e.has_value) {
      absl::Status s = conn.Delete(child, std::nullopt);
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace shale::topo
