#pragma once

// ChaosLoad: the client load of the chaos test, through the gateway's
// PostgreSQL port. Writer threads insert rows with unique ids into
// chaos(id, w, v) with autocommit, one id per attempt, never retried: an id
// whose INSERT returned OK is acknowledged, one whose INSERT returned an
// error has an unknown outcome (it may or may not exist). A reader thread
// reads acknowledged ids back by point SELECTs on the primary (db "app") and
// notes any that is not found. Every error a client sees is kept with its
// time, so the test can tell errors during a fault from errors outside one.
//
// Lifecycle: the constructor starts the threads, Stop() (or the destructor)
// ends them; results are read after Stop(). acked_count() and
// RandomAcked() may be called from any thread at any time. Owns its threads
// and their connections.

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace shale::chaos {

struct ClientError {
  absl::Time at;       // when the call returned
  std::string client;  // "writer 2", "reader"
  std::string what;    // the statement's id and the error
};

// A read of an acknowledged id that found no row.
struct MissingRead {
  absl::Time at;
  int64_t id = 0;
};

class ChaosLoad {
 public:
  struct Options {
    int pg_port = 0;  // the gateway's PostgreSQL port (it keeps it across restarts)
    int writers = 3;
    bool reader = true;
    uint64_t seed = 1;  // the reader's choice of ids
  };
  explicit ChaosLoad(const Options& options);
  ~ChaosLoad();
  ChaosLoad(const ChaosLoad&) = delete;
  ChaosLoad& operator=(const ChaosLoad&) = delete;

  void Stop();

  int64_t acked_count() const { return acked_count_.load(); }
  int64_t error_count() const { return error_count_.load(); }
  int64_t reads() const { return reads_.load(); }

  // After Stop(): sorted ids.
  std::vector<int64_t> acked() const;
  std::vector<int64_t> unknown() const;
  std::vector<ClientError> errors() const;
  std::vector<MissingRead> missing_reads() const;

  // The libpq connection string of the gateway for db ("app", "app@replica").
  static std::string ConnInfo(int pg_port, const std::string& db = "app");
  // The id the n-th INSERT of writer w uses (w from 0): disjoint per writer.
  static int64_t IdOf(int w, int64_t n) { return (w + 1) * 1'000'000'000LL + n; }

 private:
  struct PerWriter {
    std::vector<int64_t> acked, unknown;
  };
  void Write(int w);
  void Read();
  void NoteError(const std::string& client, const std::string& what);

  const Options options_;
  std::vector<PerWriter> per_writer_;  // slot w: writer w's thread only, until Stop()
  std::vector<std::thread> threads_;
  absl::Notification stop_;
  std::atomic<int64_t> acked_count_{0};
  std::atomic<int64_t> error_count_{0};
  std::atomic<int64_t> reads_{0};

  mutable absl::Mutex mu_;
  // Every acknowledged id so far, in acknowledgement order (the reader's pool).
  std::vector<int64_t> acked_pool_ ABSL_GUARDED_BY(mu_);
  std::vector<ClientError> errors_ ABSL_GUARDED_BY(mu_);
  std::vector<MissingRead> missing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::chaos
