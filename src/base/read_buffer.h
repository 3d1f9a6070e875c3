#pragma once

// ReadBuffer holds bytes received from a stream and not yet parsed, for the
// readers of length-prefixed messages (the PostgreSQL wire protocol, the
// tablet's session port). Bytes [data(), data() + size()) are unread; a
// read goes into Space() and is Commit()ted. Memory grows only as data
// arrives, never to a length a peer merely claims, and a buffer that grew
// past 1 MiB is given back once it is empty again (at the next Space(), so
// views into the last message stay valid until then).
//
// Owned by one reader and used by one thread at a time.

#include <algorithm>
#include <cstring>
#include <string>

namespace shale {

class ReadBuffer {
 public:
  const char* data() const { return buf_.data() + begin_; }
  size_t size() const { return end_ - begin_; }

  // Room for the next read after the unread bytes (moved to the front), at
  // least 64 KiB.
  char* Space() {
    if (begin_ == end_) {
      begin_ = end_ = 0;
      if (buf_.size() > kKeepCapacity) std::string().swap(buf_);
    } else if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() < end_ + kChunk) buf_.resize(std::max(end_ + kChunk, buf_.size() * 2));
    return buf_.data() + end_;
  }
  size_t space_size() const { return buf_.size() - end_; }
  // n bytes were read into Space().
  void Commit(size_t n) { end_ += n; }
  // The first n unread bytes were parsed.
  void Consume(size_t n) { begin_ += n; }

 private:
  static constexpr size_t kChunk = 64 << 10;
  static constexpr size_t kKeepCapacity = 1 << 20;
  std::string buf_;  // size() is the capacity
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace shale
