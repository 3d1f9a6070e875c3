#include "local/process_state.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace shale::local {
namespace {

constexpr int kVersion = 1;

nlohmann::json OptionsToJson(const LocalOptions& o) {
  return {{"data_dir", o.data_dir},  {"shards", o.shards}, {"replicas", o.replicas},
          {"cells", o.cells},        {"topo", o.topo},     {"keyspace", o.keyspace},
          {"base_port", o.base_port}};
}

LocalOptions OptionsFromJson(const nlohmann::json& j) {
  LocalOptions o;
  o.data_dir = j.at("data_dir").get<std::string>();
  o.shards = j.at("shards").get<int>();
  o.replicas = j.at("replicas").get<int>();
  o.cells = j.at("cells").get<int>();
  o.topo = j.at("topo").get<std::string>();
  o.keyspace = j.at("keyspace").get<std::string>();
  o.base_port = j.at("base_port").get<int>();
  return o;
}

}  // namespace

const ProcessRecord* LocalState::Find(const std::string& name) const {
  for (const ProcessRecord& p : processes) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void LocalState::Put(ProcessRecord p) {
  for (ProcessRecord& old : processes) {
    if (old.name == p.name) {
      old = std::move(p);
      return;
    }
  }
  processes.push_back(std::move(p));
}

std::string StatePath(const std::string& data_dir) { return data_dir + "/local.json"; }

absl::StatusOr<LocalState> ReadState(const std::string& data_dir) {
  const std::string path = StatePath(data_dir);
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(absl::StrCat(path, " is not valid JSON"));
  }
  try {
    if (j.value("version", 0) != kVersion) {
      return absl::DataLossError(absl::StrCat(path, ": unknown version ", j.value("version", 0)));
    }
    LocalState state;
    state.options = OptionsFromJson(j.at("options"));
    state.topo_address = j.at("topo").get<std::string>();
    for (const nlohmann::json& p : j.at("processes")) {
      ProcessRecord r;
      r.name = p.at("name").get<std::string>();
      r.kind = p.at("kind").get<std::string>();
      r.pid = p.at("pid").get<pid_t>();
      r.argv = p.at("argv").get<std::vector<std::string>>();
      r.ports = p.at("ports").get<std::map<std::string, int>>();
      r.log = p.at("log").get<std::string>();
      state.processes.push_back(std::move(r));
    }
    return state;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": ", e.what()));
  }
}

absl::Status WriteState(const std::string& data_dir, const LocalState& state) {
  nlohmann::json j;
  j["version"] = kVersion;
  j["options"] = OptionsToJson(state.options);
  j["topo"] = state.topo_address;
  j["processes"] = nlohmann::json::array();
  for (const ProcessRecord& p : state.processes) {
    j["processes"].push_back({{"name", p.name},
                              {"kind", p.kind},
                              {"pid", p.pid},
                              {"argv", p.argv},
                              {"ports", p.ports},
                              {"log", p.log}});
  }
  const std::string path = StatePath(data_dir);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace shale::local
