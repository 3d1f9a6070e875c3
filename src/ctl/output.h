#pragma once

// Formats `shale ctl` results for people (table) or programs (JSON, the default).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace shale::ctl {

enum class OutputFormat { kJson, kTable };

// "json" or "table"; InvalidArgument otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name);

// JSON: pretty-printed, 2-space indent. Table: an array of objects becomes
// one row per element with a column per key; an array of scalars one column;
// an object two columns (field, value), nested values printed as compact JSON.
// Always ends with a newline.
std::string FormatOutput(const nlohmann::json& value, OutputFormat format);

}  // namespace shale::ctl
