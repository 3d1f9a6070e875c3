#include "gate/pgwire/cancel_registry.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>

namespace shale::gate::pgwire {
namespace {

uint32_t RandomWord() {
  uint32_t v = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof(v)) != 1) std::abort();
  return v;
}

}  // namespace

CancelKey CancelRegistry::Register(Session* session) {
  CancelKey key;
  key.secret = RandomWord();
  absl::MutexLock lock(&mu_);
  do {
    key.pid = RandomWord() & 0x7fffffff;  // shown as a positive process id
  } while (key.pid == 0 || sessions_.contains(key.pid));
  sessions_[key.pid] = Entry{key.secret, session};
  return key;
}

void CancelRegistry::Unregister(const CancelKey& key) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(key.pid);
}

bool CancelRegistry::Cancel(const CancelKey& key) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(key.pid);
  if (it == sessions_.end() ||
      CRYPTO_memcmp(&it->second.secret, &key.secret, sizeof(key.secret)) != 0) {
    return false;
  }
  // Under mu_, so that Unregister (and the session's destruction) waits.
  it->second.session->Cancel();
  return true;
}

}  // namespace shale::gate::pgwire
