#include "base/metrics/prometheus.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shale::metrics {
namespace {

bool IsNameChar(char c, bool first, bool allow_colon) {
  if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_') return true;
  if (allow_colon && c == ':') return true;
  return !first && absl::ascii_isdigit(static_cast<unsigned char>(c));
}

// Appends {a="x",b="y"} (or nothing when there are no labels). extra_name /
// extra_value add one more label at the end, used for a histogram's "le".
void AppendLabels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                  absl::string_view extra_name, absl::string_view extra_value, std::string* out) {
  if (names.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, names[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  if (!extra_name.empty()) {
    if (!first) out->push_back(',');
    absl::StrAppend(out, extra_name, "=\"", extra_value, "\"");
  }
  out->push_back('}');
}

void AppendSample(absl::string_view name, const FamilySnapshot& family,
                  const std::vector<std::string>& values, absl::string_view extra_name,
                  absl::string_view extra_value, absl::string_view value, std::string* out) {
  out->append(name.data(), name.size());
  AppendLabels(family.label_names, values, extra_name, extra_value, out);
  absl::StrAppend(out, " ", value, "\n");
}

void AppendHistogram(const FamilySnapshot& family, const SampleSnapshot& sample, std::string* out) {
  const HistogramSnapshot& h = sample.histogram;
  const std::string bucket = absl::StrCat(family.name, "_bucket");
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    std::string le = i < h.bounds.size() ? FormatValue(h.bounds[i]) : "+Inf";
    AppendSample(bucket, family, sample.label_values, "le", le, absl::StrCat(h.cumulative[i]), out);
  }
  AppendSample(absl::StrCat(family.name, "_sum"), family, sample.label_values, "", "",
               FormatValue(h.sum), out);
  AppendSample(absl::StrCat(family.name, "_count"), family, sample.label_values, "", "",
               absl::StrCat(h.count), out);
}

}  // namespace

std::string RenderPrometheusText(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const FamilySnapshot& family : families) {
    absl::StrAppend(&out, "# HELP ", family.name, " ", EscapeHelp(family.help), "\n");
    absl::StrAppend(&out, "# TYPE ", family.name, " ", MetricTypeName(family.type), "\n");
    for (const SampleSnapshot& sample : family.samples) {
      if (family.type == MetricType::kHistogram) {
        AppendHistogram(family, sample, &out);
      } else {
        AppendSample(family.name, family, sample.label_values, "", "", FormatValue(sample.value),
                     &out);
      }
    }
  }
  return out;
}

bool IsValidMetricName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, /*allow_colon=*/true)) return false;
  }
  return true;
}

bool IsValidLabelName(absl::string_view name) {
  if (name.empty() || absl::StartsWith(name, "__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, /*allow_colon=*/false)) return false;
  }
  return true;
}

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Integers up to 2^53 print exactly and without an exponent, as counters read best.
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

}  // namespace shale::metrics
