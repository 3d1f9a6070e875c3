// topo_conformance_helper: a tiny CLI that the cross-process conformance
// tests run as a second process on the same topology store.
//
//   topo_conformance_helper lock ADDRESS DIR [--lock-ttl-ms N] [--timeout-ms N]
//       Takes the lock of DIR (contents "helper pid <pid>"), prints "LOCKED",
//       waits for a line or EOF on stdin, unlocks, prints "UNLOCKED", exits 0.
//   topo_conformance_helper incr ADDRESS PATH COUNT
//       Compare-and-set increments the decimal counter at PATH COUNT times,
//       retrying on Aborted, then prints "DONE".
//
// Protocol lines go to stdout; errors go to stderr with exit status 1 (2 for
// bad usage).

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "topo/open/open.h"

namespace shale::topo {
namespace {

int Usage() {
  std::cerr << "usage: topo_conformance_helper lock ADDRESS DIR [--lock-ttl-ms N] "
               "[--timeout-ms N]\n"
               "       topo_conformance_helper incr ADDRESS PATH COUNT\n";
  return 2;
}

int Fail(absl::string_view what, const absl::Status& status) {
  std::cerr << "topo_conformance_helper: " << what << ": " << status << std::endl;
  return 1;
}

int RunLock(int argc, char** argv) {
  if (argc < 4) return Usage();
  ConnOptions options;
  absl::Duration timeout = absl::Seconds(60);
  for (int i = 4; i < argc; i += 2) {
    if (i + 1 >= argc) return Usage();
    int64_t ms;
    if (!absl::SimpleAtoi(argv[i + 1], &ms) || ms <= 0) return Usage();
    if (std::string(argv[i]) == "--lock-ttl-ms") {
      options.lock_ttl = absl::Milliseconds(ms);
    } else if (std::string(argv[i]) == "--timeout-ms") {
      timeout = absl::Milliseconds(ms);
    } else {
      return Usage();
    }
  }
  auto conn = OpenConn(argv[2], options);
  if (!conn.ok()) return Fail("open", conn.status());
  auto lock = (*conn)->Lock(argv[3], absl::StrCat("helper pid ", getpid()), timeout);
  if (!lock.ok()) return Fail("lock", lock.status());
  std::cout << "LOCKED" << std::endl;
  std::string line;
  std::getline(std::cin, line);  // a line or EOF
  absl::Status unlocked = (*lock)->Unlock();
  if (!unlocked.ok()) return Fail("unlock", unlocked);
  std::cout << "UNLOCKED" << std::endl;
  return 0;
}

int RunIncr(int argc, char** argv) {
  int count;
  if (argc != 5 || !absl::SimpleAtoi(argv[4], &count) || count < 0) return Usage();
  auto conn = OpenConn(argv[2], ConnOptions{});
  if (!conn.ok()) return Fail("open", conn.status());
  const std::string path = argv[3];
  for (int done = 0; done < count;) {
    auto current = (*conn)->Get(path);
    if (!current.ok()) return Fail("get", current.status());
    int64_t value;
    if (!absl::SimpleAtoi(current->value, &value)) {
      return Fail("parse", absl::InvalidArgumentError(current->value));
    }
    auto updated = (*conn)->Update(path, absl::StrCat(value + 1), current->version);
    if (absl::IsAborted(updated.status())) continue;  // someone else won: re-read
    if (!updated.ok()) return Fail("update", updated.status());
    ++done;
  }
  std::cout << "DONE" << std::endl;
  return 0;
}

}  // namespace
}  // namespace shale::topo

int main(int argc, char** argv) {
  if (argc < 2) return shale::topo::Usage();
  const std::string command = argv[1];
  if (command == "lock") return shale::topo::RunLock(argc, argv);
  if (command == "incr") return shale::topo::RunIncr(argc, argv);
  return shale::topo::Usage();
}
