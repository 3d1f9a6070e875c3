#pragma once

// Turns topology records into JSON for `shale ctl` output: protobuf records
// with their proto field names, and any raw topology value by its path
// (TopoCat), the way `zk cat` prints a node.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace shale::ctl {

// The record as JSON, with every field printed (defaults included).
nlohmann::json RecordToJson(const google::protobuf::Message& record);

// Decodes the raw value stored at path: the record type is chosen from the
// last path component (Keyspace, Shard, Tablet, ...; locks hold LockInfo).
// A value of an unknown kind prints as a string when it is UTF-8 text and as
// {"hex": "..."} otherwise. DataLoss when a known record does not parse.
absl::StatusOr<nlohmann::json> DecodeTopoValue(absl::string_view path, absl::string_view value);

// Parses JSON (proto field names, or their lowerCamel JSON names) into
// record. InvalidArgument "invalid <Record> JSON: ..." on bad input: for
// malformed JSON the line and column, for an unknown field its path (e.g.
// tables["t"].tabel_id), else the protobuf parser's reason.
absl::Status JsonToRecord(absl::string_view json, google::protobuf::Message* record);

}  // namespace shale::ctl
