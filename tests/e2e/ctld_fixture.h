#pragma once

// Starts `shale ctld` for end-to-end tests (reparent_fixture.h, the ctld and
// dashboard tests) on free ports and reads the ports it prints. HTTP helpers
// are in http_get.h. Confined to the test thread.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/subprocess.h"
#include "gtest/gtest.h"

namespace shale::e2e {

// A running `shale ctld` and the ports it printed.
struct CtldProcess {
  std::unique_ptr<Subprocess> process;
  int http_port = 0;
  int grpc_port = 0;
};

// Starts `shale ctld --topo topo --http-port 0 --grpc-port 0 extra...`
// (after the command prefix, if any) and reads the "shale ctld:
// grpc_port=N http_port=N ..." line it prints.
inline CtldProcess StartCtldProcess(const std::string& topo,
                                    const std::vector<std::string>& extra,
                                    const std::vector<std::string>& prefix = {}) {
  CtldProcess c;
  c.process = std::make_unique<Subprocess>();
  const std::vector<std::string> command = {FindBinary("shale"), "ctld", "--topo", topo,
                                            "--http-port", "0", "--grpc-port", "0"};
  std::vector<std::string> args = prefix;
  args.insert(args.end(), command.begin(), command.end());
  args.insert(args.end(), extra.begin(), extra.end());
  absl::Status s = c.process->Start(args);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<std::string> line = c.process->ReadLine(absl::Seconds(30));
  EXPECT_TRUE(line.ok()) << line.status();
  if (line.ok()) {
    for (absl::string_view part : absl::StrSplit(*line, ' ')) {
      if (absl::ConsumePrefix(&part, "grpc_port=")) {
        EXPECT_TRUE(absl::SimpleAtoi(part, &c.grpc_port)) << *line;
      } else if (absl::ConsumePrefix(&part, "http_port=")) {
        EXPECT_TRUE(absl::SimpleAtoi(part, &c.http_port)) << *line;
      }
    }
  }
  EXPECT_GT(c.http_port, 0) << (line.ok() ? *line : "");
  EXPECT_GT(c.grpc_port, 0) << (line.ok() ? *line : "");
  return c;
}

}  // namespace shale::e2e
