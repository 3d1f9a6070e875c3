#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/fiber/io_wait.h"
#include "base/fiber/scheduler.h"
#include "gtest/gtest.h"

namespace shale::fiber {
namespace {

// A connected pair of stream sockets, closed at the end of the test.
struct SocketPair {
  int a = -1, b = -1;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a = fds[0];
    b = fds[1];
  }
  ~SocketPair() {
    ::close(a);
    ::close(b);
  }
};

// Reads exactly n bytes the fiber way (MSG_DONTWAIT, then WaitFd).
std::string ReadN(int fd, size_t n) {
  std::string out;
  char buf[256];
  while (out.size() < n) {
    ssize_t r = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), MSG_DONTWAIT);
    if (r > 0) {
      out.append(buf, r);
    } else if (r < 0 && errno == EAGAIN) {
      WaitFd(fd, POLLIN);
    } else {
      break;
    }
  }
  return out;
}

TEST(FiberTest, ManyFibersPingPongOnTwoWorkers) {
  constexpr int kPairs = 50;
  constexpr int kRounds = 200;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  for (int i = 0; i < kPairs; ++i) pairs.push_back(std::make_unique<SocketPair>());
  std::atomic<int> finished{0};
  std::atomic<int> bad{0};
  {
    Scheduler scheduler({.threads = 2});
    EXPECT_EQ(scheduler.threads(), 2);
    for (auto& p : pairs) {
      const int a = p->a, b = p->b;
      // An echo server fiber and a client fiber per pair: every exchange
      // parks one of them.
      scheduler.Spawn([b] {
        for (int r = 0; r < kRounds; ++r) {
          std::string m = ReadN(b, 4);
          if (::send(b, m.data(), m.size(), MSG_NOSIGNAL) != 4) return;
        }
      });
      scheduler.Spawn([a, &finished, &bad] {
        EXPECT_TRUE(InFiber());
        for (int r = 0; r < kRounds; ++r) {
          char m[5];
          std::snprintf(m, sizeof(m), "%04d", r);
          if (::send(a, m, 4, MSG_NOSIGNAL) != 4 || ReadN(a, 4) != std::string(m, 4)) {
            bad.fetch_add(1);
            return;
          }
        }
        finished.fetch_add(1);
      });
    }
    scheduler.Join();
    EXPECT_EQ(scheduler.live_fibers(), 0);
  }
  EXPECT_EQ(finished.load(), kPairs);
  EXPECT_EQ(bad.load(), 0);
}

TEST(FiberTest, WaitFdTimesOutAtTheDeadlineAndOtherFibersRunMeanwhile) {
  SocketPair idle;
  SocketPair busy;
  absl::Duration waited;
  bool ready = true;
  std::atomic<int> exchanged{0};
  Scheduler scheduler({.threads = 1});  // one worker: the two fibers share it
  scheduler.Spawn([&] {
    const absl::Time start = absl::Now();
    ready = WaitFd(idle.a, POLLIN, start + absl::Milliseconds(200));
    waited = absl::Now() - start;
  });
  scheduler.Spawn([&] {
    for (int i = 0; i < 100; ++i) {
      if (::send(busy.a, "x", 1, MSG_NOSIGNAL) != 1 || ReadN(busy.b, 1) != "x") return;
      exchanged.fetch_add(1);
    }
  });
  scheduler.Join();
  EXPECT_FALSE(ready);
  EXPECT_GE(waited, absl::Milliseconds(200));
  EXPECT_EQ(exchanged.load(), 100);
}

TEST(FiberTest, ShutdownWakesAParkedFiber) {
  SocketPair pair;
  absl::Notification parked;
  std::string got = "unset";
  Scheduler scheduler({.threads = 1});
  scheduler.Spawn([&] {
    parked.Notify();
    got = ReadN(pair.a, 4);  // nothing comes; shutdown ends it with EOF
  });
  parked.WaitForNotification();
  ::shutdown(pair.a, SHUT_RDWR);
  scheduler.Join();
  EXPECT_EQ(got, "");
}

TEST(FiberTest, RunBlockingLetsTheWorkerRunOtherFibers) {
  // One worker: a fiber blocked in RunBlocking on a mutex condition must not
  // keep the second fiber from running and releasing it.
  absl::Mutex mu;
  bool released = false;
  bool blocked_saw_release = false;
  Scheduler scheduler({.threads = 1});
  scheduler.Spawn([&] {
    RunBlocking([&] {
      absl::MutexLock lock(&mu);
      blocked_saw_release = mu.AwaitWithTimeout(absl::Condition(&released), absl::Seconds(30));
    });
  });
  scheduler.Spawn([&] {
    absl::MutexLock lock(&mu);
    released = true;
  });
  scheduler.Join();
  EXPECT_TRUE(blocked_saw_release);
}

TEST(FiberTest, OutsideAFiberWaitFdPollsAndRunBlockingRunsInline) {
  SocketPair pair;
  EXPECT_FALSE(InFiber());
  EXPECT_FALSE(WaitFd(pair.a, POLLIN, absl::Now() + absl::Milliseconds(20)));
  ASSERT_EQ(::send(pair.b, "y", 1, MSG_NOSIGNAL), 1);
  EXPECT_TRUE(WaitFd(pair.a, POLLIN, absl::Now() + absl::Seconds(10)));
  int ran = 0;
  RunBlocking([&] { ++ran; });
  EXPECT_EQ(ran, 1);
}

TEST(FiberTest, WritingToAClosedPeerDoesNotKillTheProcess) {
  // write(2) (as OpenSSL uses) to a socket whose peer is gone raises SIGPIPE;
  // fibers run with it blocked, also after switching to another fiber.
  SocketPair pair;
  ::close(pair.b);
  pair.b = ::socket(AF_UNIX, SOCK_STREAM, 0);  // something for ~SocketPair to close
  ssize_t written = 0;
  int error = 0;
  Scheduler scheduler({.threads = 1});
  scheduler.Spawn([&] {
    written = ::write(pair.a, "x", 1);
    error = errno;
  });
  scheduler.Spawn([] {});  // another fiber, another context switch
  scheduler.Join();
  EXPECT_EQ(written, -1);
  EXPECT_EQ(error, EPIPE);
}

TEST(FiberTest, DeepRecursionFitsTheDefaultStack) {
  // The SQL parser recurses; a fiber's stack is as large as a thread's.
  std::function<int(int)> depth = [&](int n) -> int {
    volatile char pad[512];
    pad[0] = static_cast<char>(n);
    return n == 0 ? pad[0] : depth(n - 1) + 1;
  };
  int result = -1;
  Scheduler scheduler({.threads = 1});
  scheduler.Spawn([&] { result = depth(5000); });  // ~3 MB of stack
  scheduler.Join();
  EXPECT_EQ(result, 5000);
}

}  // namespace
}  // namespace shale::fiber
