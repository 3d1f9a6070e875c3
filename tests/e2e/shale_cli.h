#pragma once

// Runs the real `shale` binary for end-to-end tests and captures its exit
// code, stdout and stderr separately. Confined to the calling thread.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shale::e2e {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `shale args...` to completion (60s at most). Errors only when the
// process could not be run at all.
absl::StatusOr<CliResult> RunShale(const std::vector<std::string>& args);

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
