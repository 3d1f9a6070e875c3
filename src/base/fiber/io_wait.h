#pragma once

// Waiting that works both in a fiber (scheduler.h) and on an ordinary
// thread. Socket code calls these instead of blocking in recv/send/poll, so
// the same code serves a fiber (which parks and lets its worker run other
// fibers) and a thread (which blocks as before). Any thread.

#include <poll.h>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"

namespace shale::fiber {

// True on a fiber (code running under a Scheduler worker).
bool InFiber();

// Waits until fd is ready for events (POLLIN and/or POLLOUT; an error or a
// hang-up also counts as ready, and the next read or write reports it) or
// the deadline passes. True when ready, false at the deadline. In a fiber it
// parks on the worker's epoll; elsewhere it is poll(2).
bool WaitFd(int fd, short events, absl::Time deadline = absl::InfiniteFuture());

// Runs fn to completion and returns. In a fiber, fn runs on a separate
// thread while the fiber is parked, so fn may block for as long as it likes
// (a condition variable, a sleep, a blocking RPC) without stalling the other
// fibers of the worker. Elsewhere fn just runs on the calling thread.
void RunBlocking(absl::FunctionRef<void()> fn);

}  // namespace shale::fiber
