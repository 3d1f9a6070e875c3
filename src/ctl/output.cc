#include "ctl/output.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace shale::ctl {
namespace {

std::string Cell(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) {
      absl::StrAppend(&l, cells[i]);
      if (i + 1 < cells.size()) l.append(width[i] - cells[i].size() + 2, ' ');
    }
    absl::StrAppend(&out, l, "\n");
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name) {
  if (name == "json") return OutputFormat::kJson;
  if (name == "table") return OutputFormat::kTable;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown output format \"", name, "\": use json or table"));
}

std::string FormatOutput(const nlohmann::json& value, OutputFormat format) {
  if (format == OutputFormat::kJson) return value.dump(2) + "\n";
  if (value.is_array()) {
    bool objects = std::all_of(value.begin(), value.end(),
                               [](const nlohmann::json& e) { return e.is_object(); });
    if (objects && !value.empty()) {
      std::vector<std::string> header;
      for (const auto& e : value) {
        for (const auto& [k, v] : e.items()) {
          if (std::find(header.begin(), header.end(), k) == header.end()) header.push_back(k);
        }
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& e : value) {
        std::vector<std::string> row;
        for (const auto& k : header) row.push_back(e.contains(k) ? Cell(e[k]) : "");
        rows.push_back(std::move(row));
      }
      return RenderTable(header, rows);
    }
    std::string out;
    for (const auto& e : value) absl::StrAppend(&out, Cell(e), "\n");
    return out;
  }
  if (value.is_object()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, v] : value.items()) rows.push_back({k, Cell(v)});
    return RenderTable({"field", "value"}, rows);
  }
  return Cell(value) + "\n";
}

}  // namespace shale::ctl
