// Fuzz target for the session port's frame reader (session_socket.h): the
// bytes a tablet reads from whoever connects. The input goes through a
// socket pair in chunks; every frame must decode or fail with one of the
// documented codes, and the reader must stop at the end.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tablet/client/session_socket.h"
#include "tablet_data.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) abort();
  // Small inputs fit the socket buffer, so writing before reading is safe.
  if (size > 100000) size = 100000;
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fds[1], data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) abort();
    sent += n;
  }
  ::shutdown(fds[1], SHUT_WR);
  shale::tablet::SessionSocket reader(fds[0]);
  shale::tablet::SessionRequest request;
  for (int frames = 0;; ++frames) {
    absl::Status s = reader.Read(&request);
    if (s.ok()) continue;
    if (!absl::IsOutOfRange(s) && !absl::IsUnavailable(s) && !absl::IsDataLoss(s)) {
      fprintf(stderr, "unexpected status: %s\n", s.ToString().c_str());
      abort();
    }
    if (frames > static_cast<int>(size)) abort();  // more frames than bytes
    break;
  }
  ::close(fds[1]);
  return 0;
}
