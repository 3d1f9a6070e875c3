#pragma once

// CancelRegistry maps the key each session was given in BackendKeyData
// (process id + secret) to that session, so that a CancelRequest, which
// arrives on a new connection, can cancel it.
//
// Owned by the Server and shared by its connection threads; thread-safe.
// A connection registers its session once it is open and unregisters it
// before destroying it; after Unregister returns no Cancel can reach it.

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "gate/pgwire/session.h"

namespace shale::gate::pgwire {

struct CancelKey {
  uint32_t pid = 0;  // 0: none
  uint32_t secret = 0;
};

class CancelRegistry {
 public:
  // A fresh key (random pid unique among registered ones, random secret).
  // session is borrowed until Unregister.
  CancelKey Register(Session* session);
  void Unregister(const CancelKey& key);
  // Calls Session::Cancel of the matching session; false when no session has
  // this pid and secret.
  bool Cancel(const CancelKey& key);

 private:
  struct Entry {
    uint32_t secret;
    Session* session;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<uint32_t, Entry> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::gate::pgwire
