#include "ctl/record_json.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "topodata.pb.h"

namespace shale::ctl {
namespace {

// The record type stored under a given last path component.
std::unique_ptr<google::protobuf::Message> RecordFor(absl::string_view path) {
  absl::string_view name = path.substr(path.rfind('/') + 1);
  absl::string_view parent = path.substr(0, path.rfind('/'));
  if (absl::EndsWith(parent, "/locks")) return std::make_unique<topodata::LockInfo>();
  if (name == "Keyspace") return std::make_unique<topodata::Keyspace>();
  if (name == "Shard") return std::make_unique<topodata::Shard>();
  if (name == "Tablet") return std::make_unique<topodata::Tablet>();
  if (name == "ShardReplication") return std::make_unique<topodata::ShardReplication>();
  if (name == "SrvKeyspace") return std::make_unique<topodata::SrvKeyspace>();
  if (name == "CellInfo") return std::make_unique<topodata::CellInfo>();
  if (name == "VSchema") return std::make_unique<topodata::VSchema>();
  if (name == "RoutingPolicy") return std::make_unique<topodata::RoutingPolicy>();
  if (name == "CtldLeader") return std::make_unique<topodata::CtldLeader>();
  return nullptr;
}

bool IsUtf8Text(absl::string_view v) {
  try {
    (void)nlohmann::json(std::string(v)).dump();
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  for (unsigned char c : v) {
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Key ranges print as hex bounds ("80", "" for open), as shard names spell
// them, instead of proto JSON's decimal uint64 strings.
void KeyRangesToHex(nlohmann::json& j) {
  if (j.is_array()) {
    for (auto& e : j) KeyRangesToHex(e);
    return;
  }
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    nlohmann::json& v = it.value();  // a plain reference: clang 14 cannot capture bindings
    if (it.key() == "key_range" && v.is_object()) {
      auto bound = [&](const char* name) -> std::string {
        uint64_t n = 0;
        if (!v.contains(name) || !absl::SimpleAtoi(v[name].get<std::string>(), &n) || n == 0) {
          return "";
        }
        std::string hex = absl::StrFormat("%016x", n);
        while (hex.size() > 2 && hex.substr(hex.size() - 2) == "00") hex.resize(hex.size() - 2);
        return hex;
      };
      v = nlohmann::json{{"start", bound("start")}, {"end", bound("end")}};
    } else {
      KeyRangesToHex(v);
    }
  }
}

}  // namespace

nlohmann::json RecordToJson(const google::protobuf::Message& record) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing a well-formed message cannot fail; the fallback keeps output valid JSON.
  if (!google::protobuf::util::MessageToJsonString(record, &out, options).ok()) return {};
  nlohmann::json j = nlohmann::json::parse(out);
  KeyRangesToHex(j);
  return j;
}

absl::StatusOr<nlohmann::json> DecodeTopoValue(absl::string_view path, absl::string_view value) {
  std::unique_ptr<google::protobuf::Message> record = RecordFor(path);
  if (record != nullptr) {
    if (!record->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(absl::StrCat("value at ", path, " does not parse as ",
                                              record->GetDescriptor()->full_name()));
    }
    return RecordToJson(*record);
  }
  if (IsUtf8Text(value)) return nlohmann::json(std::string(value));
  return nlohmann::json{{"hex", absl::BytesToHexString(value)}};
}

absl::Status JsonToRecord(absl::string_view json, google::protobuf::Message* record) {
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json), record, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid ", record->GetDescriptor()->name(),
                                                   " JSON: ", std::string(status.message())));
  }
  return absl::OkStatus();
}

}  // namespace shale::ctl
