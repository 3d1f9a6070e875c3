#pragma once

// Early-return helpers for absl::Status / absl::StatusOr, as used across Shale.
//
//   RETURN_IF_ERROR(DoThing());
//   ASSIGN_OR_RETURN(auto value, ComputeValue());

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SHALE_CONCAT_INNER_(a, b) a##b
#define SHALE_CONCAT_(a, b) SHALE_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                       \
  do {                                              \
    ::absl::Status shale_status_ = (expr);          \
    if (!shale_status_.ok()) return shale_status_;  \
  } while (0)

#define SHALE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

// Expands to several statements: inside an if, use braces.
#define ASSIGN_OR_RETURN(lhs, expr) \
  SHALE_ASSIGN_OR_RETURN_IMPL_(SHALE_CONCAT_(shale_statusor_, __LINE__), lhs, expr)
