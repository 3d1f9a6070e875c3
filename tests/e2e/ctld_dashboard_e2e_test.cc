// End-to-end test of ctld's dashboard in headless Chromium: a real cluster
// (keyspace app, shards -80 and 80-, a primary and a replica each), a real
// `shale ctld`, and Debian's `chromium` rendering http://127.0.0.1:PORT/.
// The page's HTML names no tablet: everything the rendered DOM shows came
// from its script's fetch of /api/cluster. After a PlannedReparentShard a
// fresh render shows the new primary and term. A screenshot is saved under
// the build dir (artifacts/ctld_dashboard.png) and its path printed.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "tests/e2e/ctld_fixture.h"
#include "tests/e2e/gate_fixture.h"
#include "tests/e2e/http_get.h"

#ifndef SHALE_E2E_ARTIFACTS_DIR
#define SHALE_E2E_ARTIFACTS_DIR "/tmp"
#endif

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The chromium binary on $PATH, or "".
std::string FindChromium() {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "", ':')) {
    const std::string candidate = absl::StrCat(dir, "/chromium");
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

class CtldDashboardTest : public GateE2eTest {
 protected:
  void SetUp() override {
    GateE2eTest::SetUp();
    chromium_ = FindChromium();
    ASSERT_FALSE(chromium_.empty())
        << "chromium is not installed: run scripts/install-deps (Debian package chromium); "
           "the dashboard test renders the page in headless Chromium";
  }

  std::string Url() const { return absl::StrCat("http://127.0.0.1:", dash_ctld_.http_port, "/"); }

  // Headless Chromium on the dashboard: the DOM after its scripts ran for a
  // few seconds of virtual time, plus extra flags (a screenshot).
  CliResult Chromium(std::vector<std::string> extra) {
    std::vector<std::string> argv = {chromium_, "--headless", "--no-sandbox", "--disable-gpu",
                                     "--disable-dev-shm-usage", "--no-first-run",
                                     absl::StrCat("--user-data-dir=", dir_.path(), "/chromium"),
                                     "--virtual-time-budget=5000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(Url());
    absl::StatusOr<CliResult> r = RunProgram(argv);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CliResult{};
  }
  std::string RenderedDom() {
    CliResult r = Chromium({"--dump-dom"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  int64_t Term(const std::string& shard) {
    auto s = ts_->GetShard("app", shard);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->record.primary_term() : -1;
  }

  // /api/cluster shows shard with primary, and every tablet serving.
  bool ApiShows(const std::string& shard, const std::string& primary) {
    nlohmann::json j = HttpGetJson(dash_ctld_.http_port, "/api/cluster");
    if (j.is_discarded() || j["keyspaces"].size() != 1) return false;
    bool found = false;
    int serving = 0;
    for (const nlohmann::json& s : j["keyspaces"][0]["shards"]) {
      if (s["name"] == shard && s["primary"] == primary) found = true;
      for (const nlohmann::json& t : s["tablets"]) serving += t["status"] == "serving" ? 1 : 0;
    }
    return found && serving == num_tablets_;
  }

  std::string chromium_;
  // The ctld whose dashboard is rendered (the fixture may run another one:
  // then either leads, and the page says which).
  CtldProcess dash_ctld_;
};

TEST_F(CtldDashboardTest, RendersTheLiveClusterInHeadlessChromium) {
  StartCluster(/*replicas=*/1);
  dash_ctld_ = StartCtldProcess(topo(), {"--discovery-interval", "1s"});
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] {
    absl::StatusOr<topo::CtldLeaderInfo> leader = ts_->GetCtldLeader();
    return leader.ok() && !leader->record.has_resigned_at();
  }));
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] { return ApiShows("-80", PrimaryOf(0)); }))
      << HttpGet(dash_ctld_.http_port, "/api/cluster");

  // The page itself carries no cluster data.
  const std::string html = HttpGet(dash_ctld_.http_port, "/");
  ASSERT_THAT(html, HasSubstr("/api/cluster"));
  for (const std::string& absent : {std::string("zone1-"), std::string("app/"),
                                    std::string("REPLICA"), std::string("term 1")}) {
    EXPECT_THAT(html, Not(HasSubstr(absent)));
  }

  // The rendered DOM shows keyspace, shards, tablets with their types, primaries and terms.
  std::string dom = RenderedDom();
  EXPECT_THAT(dom, HasSubstr("keyspace app"));
  for (int s = 0; s < 2; ++s) {
    EXPECT_THAT(dom, HasSubstr(absl::StrCat("data-shard=\"app/", kShards[s], "\" data-primary=\"",
                                            PrimaryOf(s), "\" data-term=\"", Term(kShards[s]),
                                            "\"")))
        << dom;
    EXPECT_THAT(dom, HasSubstr(absl::StrCat("primary ", PrimaryOf(s))));
    EXPECT_THAT(dom, HasSubstr(absl::StrCat("data-alias=\"", Alias(s, 0), "\" data-type=\"PRIMARY\"")));
    EXPECT_THAT(dom, HasSubstr(absl::StrCat("data-alias=\"", Alias(s, 1), "\" data-type=\"REPLICA\"")));
  }
  EXPECT_THAT(dom, HasSubstr(">serving<"));
  // Which ctld leads, and whether this one does.
  absl::StatusOr<topo::CtldLeaderInfo> leader = ts_->GetCtldLeader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  EXPECT_THAT(dom, HasSubstr(absl::StrCat("data-leader=\"", leader->record.holder(), "\"")));
  const nlohmann::json self = CtldLeadership(dash_ctld_.http_port);
  EXPECT_THAT(dom, HasSubstr(absl::StrCat("this ctld: ", self["holder"].get<std::string>(),
                                          self["is_leader"] == true ? " (leader)" : " (standby)")));

  // A planned reparent of -80: a fresh render shows the new primary and term,
  // and the change in the list of recent primary changes.
  const int64_t term = Term("-80");
  CliResult r = Ctl({"PlannedReparentShard", "app/-80", "--new-primary", Alias(0, 1)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Term("-80"), term + 1);
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] { return ApiShows("-80", Alias(0, 1)); }))
      << HttpGet(dash_ctld_.http_port, "/api/cluster");
  dom = RenderedDom();
  EXPECT_THAT(dom, HasSubstr(absl::StrCat("data-shard=\"app/-80\" data-primary=\"", Alias(0, 1),
                                          "\" data-term=\"", term + 1, "\"")))
      << dom;
  EXPECT_THAT(dom, HasSubstr(absl::StrCat("data-alias=\"", Alias(0, 1), "\" data-type=\"PRIMARY\"")));
  EXPECT_THAT(dom, HasSubstr(absl::StrCat("data-alias=\"", Alias(0, 0), "\" data-type=\"REPLICA\"")));
  EXPECT_THAT(dom, HasSubstr(absl::StrCat(Alias(0, 0), " (term ", term, ")")));
  EXPECT_THAT(dom, HasSubstr(absl::StrCat(Alias(0, 1), " (term ", term + 1, ")")));

  // A screenshot for people, kept in the build dir.
  std::filesystem::create_directories(SHALE_E2E_ARTIFACTS_DIR);
  const std::string png = absl::StrCat(SHALE_E2E_ARTIFACTS_DIR, "/ctld_dashboard.png");
  std::filesystem::remove(png);
  CliResult shot = Chromium({absl::StrCat("--screenshot=", png), "--window-size=1280,900"});
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  std::ifstream in(png, std::ios::binary);
  char magic[4] = {0};
  in.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG") << png;
  EXPECT_GT(std::filesystem::file_size(png), 10000u);
  std::cout << "dashboard screenshot: " << png << "\n";
  RecordProperty("screenshot", png);

  ASSERT_TRUE(dash_ctld_.process->Kill(SIGTERM).ok());
  EXPECT_TRUE(dash_ctld_.process->WaitFor(absl::Seconds(30)).ok());
}

}  // namespace
}  // namespace shale::e2e
