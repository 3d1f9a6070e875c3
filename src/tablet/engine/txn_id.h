#pragma once

// TxnId: the id of an interactive transaction of one Engine. Ids start at 1,
// only grow and are never reused for the life of the Engine (so a stale id
// can never reach another client's transaction). A plain value type.

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace shale::tablet::engine {

class TxnId {
 public:
  constexpr TxnId() = default;  // 0: no transaction
  constexpr explicit TxnId(int64_t value) : value_(value) {}

  constexpr int64_t value() const { return value_; }
  std::string ToString() const { return absl::StrCat(value_); }

  friend constexpr bool operator==(TxnId a, TxnId b) { return a.value_ == b.value_; }
  friend constexpr bool operator!=(TxnId a, TxnId b) { return a.value_ != b.value_; }
  friend constexpr bool operator<(TxnId a, TxnId b) { return a.value_ < b.value_; }
  template <typename H>
  friend H AbslHashValue(H h, TxnId id) {
    return H::combine(std::move(h), id.value_);
  }

 private:
  int64_t value_ = 0;
};

// What an interactive transaction may do.
//  - kReadWrite: holds the writer connection (BEGIN IMMEDIATE) until it ends;
//    other writers wait for it.
//  - kReadOnly: holds one reader connection with a snapshot taken at Begin;
//    writes are refused. Allowed in read-only mode.
enum class TxnMode { kReadWrite, kReadOnly };

}  // namespace shale::tablet::engine
