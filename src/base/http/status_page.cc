#include "base/http/status_page.h"

#include "absl/strings/str_cat.h"
#include "base/http/html.h"

namespace shale::http {
namespace {

constexpr absl::string_view kStyle =
    "body{font-family:sans-serif;margin:1.5em}"
    "table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
    "h2{border-bottom:1px solid #ccc;margin-top:1.5em}"
    ".ok{color:#080}.bad{color:#b00}";

}  // namespace

std::string FormatStartTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

std::string FormatUptime(absl::Duration d) {
  return absl::FormatDuration(absl::Trunc(d, absl::Seconds(1)));
}

std::string RenderStatusPage(const StatusPageInfo& info) {
  std::string title = HtmlEscape(info.title);
  std::string out =
      absl::StrCat("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", title,
                   "</title><style>", kStyle, "</style></head>\n<body>\n<h1>", title, "</h1>\n");
  std::string health =
      info.health.ok()
          ? std::string("<span class=\"ok\">ok</span>")
          : absl::StrCat("<span class=\"bad\">", HtmlEscape(info.health.ToString()), "</span>");
  absl::StrAppend(&out, "<table>\n", "<tr><th>process</th><td>", HtmlEscape(info.process_name),
                  " (pid ", info.pid, ")</td></tr>\n", "<tr><th>started</th><td>",
                  FormatStartTime(info.start_time), "</td></tr>\n", "<tr><th>uptime</th><td>",
                  FormatUptime(info.now - info.start_time), "</td></tr>\n",
                  "<tr><th>health</th><td>", health, "</td></tr>\n</table>\n<p>");
  for (const std::string& link : info.links) {
    std::string escaped = HtmlEscape(link);
    absl::StrAppend(&out, "<a href=\"", escaped, "\">", escaped, "</a> ");
  }
  out += "</p>\n";
  for (const auto& [section_title, fragment] : info.sections) {
    absl::StrAppend(&out, "<h2>", HtmlEscape(section_title), "</h2>\n", fragment, "\n");
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace shale::http
