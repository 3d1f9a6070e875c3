#pragma once

// Decoding of Bind parameters into values for the Session, by format code
// (0 text, 1 binary) and the parameter's type OID (from Parse; 0 when the
// client left it unspecified). Stateless, safe from any thread.
//
// Text format: OIDs 20/21/23 -> int64, 700/701 -> float64, 1700 -> int64 or
// float64 when exact, else the text, 16 -> int64 0/1, 17 -> blob (\x hex or
// escape form), anything else -> text. Binary format: int2/int4/int8 and
// float4/float8 big-endian, bool one byte, numeric, text/varchar raw, bytea and
// unknown OIDs -> blob. A NULL (length -1) is Value{null: true}.

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gate/pgwire/frontend_messages.h"
#include "tablet_data.pb.h"

namespace shale::gate::pgwire {

// One parameter. InvalidArgument with SQLSTATE 22P02 for text that is not a
// value of the type, 22P03 for malformed binary, 08P01 for an unknown format
// code.
absl::StatusOr<tablet::Value> DecodeParam(std::optional<absl::string_view> data, int16_t format,
                                          uint32_t type_oid);

// Every parameter of a Bind for a statement taking num_params parameters of
// param_oids (missing OIDs are unspecified): 08P01 when the counts of values
// or format codes do not fit, else DecodeParam's errors naming the parameter.
absl::StatusOr<std::vector<tablet::Value>> DecodeBindParams(const BindMessage& bind,
                                                            int num_params,
                                                            absl::Span<const uint32_t> param_oids);

// The format code of column i under a Bind's result format codes (none: all
// text; one: all columns; else one per column, which the caller has checked).
int16_t FormatFor(absl::Span<const int16_t> formats, size_t i);

}  // namespace shale::gate::pgwire
