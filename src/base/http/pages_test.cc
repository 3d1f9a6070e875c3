// Tests of the pure renderers behind the status server's pages.

#include <limits>

#include "base/http/html.h"
#include "base/http/status_page.h"
#include "base/http/vars_json.h"
#include "base/metrics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::http {
namespace {

using ::testing::HasSubstr;

TEST(HtmlTest, Escape) {
  EXPECT_EQ(HtmlEscape("plain"), "plain");
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(HtmlTest, TableEscapesCells) {
  EXPECT_EQ(HtmlTable({"name", "state"}, {{"ks/<0>", "serving"}}),
            "<table>\n<tr><th>name</th><th>state</th></tr>\n"
            "<tr><td>ks/&lt;0&gt;</td><td>serving</td></tr>\n</table>\n");
}

TEST(StatusPageTest, Render) {
  StatusPageInfo info;
  info.title = "gate & co";
  info.process_name = "gate";
  info.pid = 42;
  info.start_time = absl::FromUnixSeconds(0);
  info.now = absl::FromUnixSeconds(3723) + absl::Milliseconds(900);
  info.health = absl::FailedPreconditionError("not <serving>");
  info.links = {"/metrics"};
  info.sections = {{"Pools", "<b>raw</b>"}};
  std::string page = RenderStatusPage(info);
  EXPECT_THAT(page, HasSubstr("<h1>gate &amp; co</h1>"));
  EXPECT_THAT(page, HasSubstr("gate (pid 42)"));
  EXPECT_THAT(page, HasSubstr("1970-01-01 00:00:00 UTC"));
  EXPECT_THAT(page, HasSubstr("<td>1h2m3s</td>"));
  EXPECT_THAT(page, HasSubstr("FAILED_PRECONDITION: not &lt;serving&gt;"));
  EXPECT_THAT(page, HasSubstr("<a href=\"/metrics\">/metrics</a>"));
  EXPECT_THAT(page, HasSubstr("<h2>Pools</h2>\n<b>raw</b>"));
}

TEST(VarsJsonTest, CountersGaugesHistograms) {
  metrics::MetricsRegistry registry;
  registry.AddCounterFamily("q_total", "Queries.", {"type"})->WithLabels({"select"})->Inc(3);
  registry.AddGauge("lag", "")->Set(std::numeric_limits<double>::infinity());
  metrics::Histogram* h = registry.AddHistogram("lat", "", {0.5, 1});
  h->Observe(0.25);
  h->Observe(2);
  nlohmann::json doc = MetricsToJson(registry.Snapshot());
  EXPECT_EQ(doc["q_total"], nlohmann::json::parse(R"({"type": "counter", "help": "Queries.",
                                      "samples": [{"labels": {"type": "select"}, "value": 3}]})"));
  EXPECT_TRUE(doc["lag"]["samples"][0]["value"].is_null());
  EXPECT_EQ(doc["lat"]["samples"][0],
            nlohmann::json::parse(R"({"labels": {}, "count": 2, "sum": 2.25,
                                      "buckets": [{"le": "0.5", "count": 1},
                                                  {"le": "1", "count": 1},
                                                  {"le": "+Inf", "count": 2}]})"));
}

}  // namespace
}  // namespace shale::http
