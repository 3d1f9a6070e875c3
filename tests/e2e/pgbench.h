#pragma once

// Running real pgbench against a gateway in end-to-end tests: start it with
// a script, collect its report, and read the figures the tests assert on.
// Free functions and a plain result; used on the test thread.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/subprocess.h"

namespace shale::e2e {

// What pgbench printed (stdout and stderr together) and its exit code.
struct PgbenchResult {
  std::unique_ptr<Subprocess> process;
  std::string out;
  int exit_code = -1;
};

// pgbench -n -f script -M mode -c clients -j 2 -T seconds against the
// gateway's PostgreSQL port, as user tester on database db.
inline std::unique_ptr<Subprocess> StartPgbench(int pg_port, const std::string& script,
                                                const std::string& mode, int clients,
                                                int seconds, const std::string& db = "app") {
  auto p = std::make_unique<Subprocess>();
  std::vector<std::string> argv = {
      "/bin/sh", "-c", "exec \"$@\" 2>&1", "sh", "pgbench", "-n", "-h", "127.0.0.1", "-p",
      absl::StrCat(pg_port), "-U", "tester", "-f", script, "-M", mode, "-c",
      absl::StrCat(clients), "-j", "2", "-T", absl::StrCat(seconds), db};
  if (!p->Start(argv).ok()) return nullptr;
  return p;
}

// Reads pgbench's output until it exits.
inline PgbenchResult FinishPgbench(std::unique_ptr<Subprocess> p) {
  PgbenchResult r;
  if (p == nullptr) return r;
  for (;;) {
    absl::StatusOr<std::string> line = p->ReadLine(absl::Seconds(180));
    if (!line.ok()) break;
    absl::StrAppend(&r.out, *line, "\n");
  }
  absl::StatusOr<int> code = p->WaitFor(absl::Seconds(30));
  r.exit_code = code.ok() ? *code : -1;
  r.process = std::move(p);
  return r;
}

// "number of transactions actually processed: N", or -1.
inline int64_t PgbenchProcessed(const std::string& out) {
  const std::string key = "number of transactions actually processed: ";
  size_t at = out.find(key);
  if (at == std::string::npos) return -1;
  int64_t n = -1;
  std::string digits = out.substr(at + key.size());
  digits = digits.substr(0, digits.find_first_not_of("0123456789"));
  return absl::SimpleAtoi(digits, &n) ? n : -1;
}

}  // namespace shale::e2e
