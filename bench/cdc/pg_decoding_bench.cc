// pg_decoding_bench: the PostgreSQL baseline of bench/cdc/run. It reads
// pg_recvlogical's test_decoding output (include-timestamp on, PGTZ=UTC) on
// stdin for --seconds and measures what cdc_bench measures for Shale: each
// "table ...: INSERT|UPDATE|DELETE" line is one row event, delayed from its
// transaction's commit ("COMMIT xid (at TIMESTAMP)", the server's clock;
// same machine) to the arrival of that COMMIT line here. Prints one
// "key=value ..." line.

#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "delay_stats.h"

namespace {

// The commit time of "COMMIT 1234 (at 2026-11-22 18:30:01.123456+00)", in
// Unix microseconds; 0 if the line has none.
int64_t CommitMicros(absl::string_view line) {
  const size_t at = line.find("(at ");
  if (at == absl::string_view::npos || line.back() != ')') return 0;
  absl::string_view ts = line.substr(at + 4, line.size() - at - 5);
  // The zone offset PostgreSQL prints: "+00" or "+05:30".
  const size_t sign = ts.find_last_of("+-");
  if (sign == absl::string_view::npos || sign < 10) return 0;
  absl::string_view zone = ts.substr(sign);
  ts = ts.substr(0, sign);
  int hours = 0, minutes = 0;
  if (!absl::SimpleAtoi(zone.substr(1, 2), &hours)) return 0;
  if (zone.size() >= 6 && !absl::SimpleAtoi(zone.substr(4, 2), &minutes)) return 0;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S", std::string(ts), absl::UTCTimeZone(), &t, &err)) {
    return 0;
  }
  const absl::Duration offset = absl::Hours(hours) + absl::Minutes(minutes);
  t -= zone[0] == '+' ? offset : -offset;
  return absl::ToUnixMicros(t);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("pg_decoding_bench: PostgreSQL logical decoding delay (reads pg_recvlogical)");
  double seconds = 10;
  app.add_option("--seconds", seconds, "how long to measure");
  CLI11_PARSE(app, argc, argv);
  shale::bench::DelayStats delays;
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + absl::Seconds(seconds);
  std::string pending;  // bytes after the last full line
  int64_t rows_in_txn = 0;
  int64_t bad_commits = 0;
  char buf[65536];
  while (absl::Now() < deadline) {
    pollfd p{0, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(0, buf, sizeof(buf));
    if (n <= 0) break;  // pg_recvlogical ended
    const int64_t now_us = absl::ToUnixMicros(absl::Now());
    pending.append(buf, n);
    size_t from = 0;
    for (size_t eol; (eol = pending.find('\n', from)) != std::string::npos; from = eol + 1) {
      absl::string_view line(pending.data() + from, eol - from);
      if (absl::StartsWith(line, "table ")) {
        ++rows_in_txn;
      } else if (absl::StartsWith(line, "COMMIT ")) {
        const int64_t commit = CommitMicros(line);
        if (commit == 0) ++bad_commits;
        for (; rows_in_txn > 0; --rows_in_txn) delays.Add(commit == 0 ? 0 : now_us - commit);
      }
    }
    pending.erase(0, from);
  }
  std::printf("%s unparsed_commits=%lld\n",
              delays.Line(absl::ToDoubleSeconds(absl::Now() - start)).c_str(),
              static_cast<long long>(bad_commits));
  return 0;
}
