#pragma once

// A stand-in for the gateway in the server's tests: a Session over its own
// in-memory SQLite database, so that real clients (libpq, psql) can be
// driven end to end. Not for production.
//
// Beyond plain SQL (with $n parameters) it understands:
//   SELECT wait_for_cancel()   blocks until Cancel(), then fails with 57014;
//   COPY <table> FROM STDIN    tab-separated text rows ("\N" is NULL); a row
//                              with the wrong number of fields fails CopyData;
//   a failed statement inside BEGIN puts the transaction in the failed state
//   (25P02) until ROLLBACK or COMMIT.
//
// The factory is thread-safe (Open is called from connection threads); a
// session is used by its connection's thread, except Cancel.

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gate/pgwire/session.h"

namespace shale::gate::pgwire {

class TestSessionFactory : public SessionFactory {
 public:
  // Database "nosuchdb" is refused with 3D000.
  absl::StatusOr<std::unique_ptr<Session>> Open(const StartupInfo& info) override;

  // Every StartupInfo given to Open, in order.
  std::vector<StartupInfo> opened() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<StartupInfo> opened_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::gate::pgwire
