#pragma once

// Runs the real `shale` binary for end-to-end tests and captures its exit
// code, stdout and stderr separately. Confined to the calling thread.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace shale::e2e {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `shale args...` to completion (60s at most). Errors only when the
// process could not be run at all.
absl::StatusOr<CliResult> RunShale(const std::vector<std::string>& args);

// Runs any program (argv[0] looked up in $PATH) the same way.
absl::StatusOr<CliResult> RunProgram(const std::vector<std::string>& argv);

// Runs `shale ctl --topo TOPO args...`; a failure to run it at all is a test
// failure (gtest EXPECT) and returns an empty result.
CliResult RunCtl(const std::string& topo, std::vector<std::string> args);

// RunCtl that must succeed (EXPECTed): its stdout parsed as JSON (discarded
// on a parse error, which then fails the test's later comparisons).
nlohmann::json RunCtlJson(const std::string& topo, std::vector<std::string> args);

// A fresh temporary directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace shale::e2e
