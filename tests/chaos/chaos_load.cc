#include "tests/chaos/chaos_load.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tests/chaos/pg_client.h"

namespace shale::chaos {
namespace {

// Longer than the gateway's buffer window (10s): a statement held while a
// primary changes is not cut short by the client.
constexpr absl::Duration kStatementTimeout = absl::Seconds(20);
// Pause after an error, so a dead gateway does not turn a client into a busy loop.
constexpr absl::Duration kErrorPause = absl::Milliseconds(20);

}  // namespace

std::string ChaosLoad::ConnInfo(int pg_port, const std::string& db) {
  return absl::StrCat("host=127.0.0.1 port=", pg_port, " user=chaos dbname=", db,
                      " sslmode=disable connect_timeout=2");
}

ChaosLoad::ChaosLoad(const Options& options) : options_(options), per_writer_(options.writers) {
  for (int w = 0; w < options_.writers; ++w) threads_.emplace_back([this, w] { Write(w); });
  if (options_.reader) threads_.emplace_back([this] { Read(); });
}

ChaosLoad::~ChaosLoad() { Stop(); }

void ChaosLoad::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ChaosLoad::NoteError(const std::string& client, const std::string& what) {
  error_count_.fetch_add(1);
  absl::MutexLock l(&mu_);
  // libpq's messages span lines; one line each reads better in the report.
  errors_.push_back({absl::Now(), client, absl::StrReplaceAll(what, {{"\n\t", " "}, {"\n", " "}})});
}

void ChaosLoad::Write(int w) {
  PgClient pg(ConnInfo(options_.pg_port));
  PerWriter& out = per_writer_[w];
  const std::string client = absl::StrCat("writer ", w);
  for (int64_t n = 0; !stop_.HasBeenNotified(); ++n) {
    const int64_t id = IdOf(w, n);
    absl::StatusOr<PgClient::Result> r = pg.Exec(
        absl::StrCat("INSERT INTO chaos (id, w, v) VALUES (", id, ", ", w, ", 'w", w, "-", n, "')"),
        kStatementTimeout);
    if (r.ok()) {
      out.acked.push_back(id);
      acked_count_.fetch_add(1);
      absl::MutexLock l(&mu_);
      acked_pool_.push_back(id);
    } else {
      out.unknown.push_back(id);
      NoteError(client, absl::StrCat("INSERT ", id, ": ", r.status().ToString()));
      stop_.WaitForNotificationWithTimeout(kErrorPause);
    }
  }
}

void ChaosLoad::Read() {
  PgClient pg(ConnInfo(options_.pg_port));
  std::mt19937_64 rng(options_.seed);
  while (!stop_.HasBeenNotified()) {
    int64_t id = 0;
    {
      absl::MutexLock l(&mu_);
      if (!acked_pool_.empty()) {
        id = acked_pool_[std::uniform_int_distribution<size_t>(0, acked_pool_.size() - 1)(rng)];
      }
    }
    if (id == 0) {
      stop_.WaitForNotificationWithTimeout(absl::Milliseconds(10));
      continue;
    }
    absl::StatusOr<PgClient::Result> r =
        pg.Exec(absl::StrCat("SELECT id FROM chaos WHERE id = ", id), kStatementTimeout);
    reads_.fetch_add(1);
    if (!r.ok()) {
      NoteError("reader", absl::StrCat("SELECT ", id, ": ", r.status().ToString()));
      stop_.WaitForNotificationWithTimeout(kErrorPause);
    } else if (r->rows.size() != 1) {
      absl::MutexLock l(&mu_);
      missing_.push_back({absl::Now(), id});
    }
  }
}

std::vector<int64_t> ChaosLoad::acked() const {
  std::vector<int64_t> out;
  for (const PerWriter& p : per_writer_) out.insert(out.end(), p.acked.begin(), p.acked.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int64_t> ChaosLoad::unknown() const {
  std::vector<int64_t> out;
  for (const PerWriter& p : per_writer_) out.insert(out.end(), p.unknown.begin(), p.unknown.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<ClientError> ChaosLoad::errors() const {
  absl::MutexLock l(&mu_);
  return errors_;
}

std::vector<MissingRead> ChaosLoad::missing_reads() const {
  absl::MutexLock l(&mu_);
  return missing_;
}

}  // namespace shale::chaos
