#include "gate/target.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "key/key_range.h"

namespace shale::gate {
namespace {

absl::Status BadTarget(absl::string_view database, absl::string_view why) {
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidCatalogName,
                  absl::StrCat("database \"", database, "\" is not a valid target: ", why,
                               " (use KEYSPACE, KEYSPACE@replica, KEYSPACE@rdonly or "
                               "KEYSPACE:SHARD@TYPE)"));
}

}  // namespace

std::string SessionTarget::ToString() const {
  std::string type = absl::AsciiStrToLower(topodata::TabletType_Name(tablet_type));
  if (shard.empty()) return absl::StrCat(keyspace, "@", type);
  return absl::StrCat(keyspace, ":", shard, "@", type);
}

absl::StatusOr<SessionTarget> ParseTarget(absl::string_view database) {
  SessionTarget t;
  absl::string_view rest = database;
  if (size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    std::string type = absl::AsciiStrToLower(rest.substr(at + 1));
    if (type == "primary" || type == "master") {
      t.tablet_type = topodata::PRIMARY;
    } else if (type == "replica") {
      t.tablet_type = topodata::REPLICA;
    } else if (type == "rdonly") {
      t.tablet_type = topodata::RDONLY;
    } else {
      return BadTarget(database, absl::StrCat("unknown tablet type \"", type, "\""));
    }
    rest = rest.substr(0, at);
  }
  if (size_t colon = rest.find(':'); colon != absl::string_view::npos) {
    t.shard = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (absl::StatusOr<key::KeyRange> range = key::KeyRange::Parse(t.shard); !range.ok()) {
      return BadTarget(database, range.status().message());
    }
  }
  if (rest.empty()) return BadTarget(database, "no keyspace");
  t.keyspace = std::string(rest);
  return t;
}

}  // namespace shale::gate
