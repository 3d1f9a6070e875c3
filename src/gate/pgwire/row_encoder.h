#pragma once

// How result rows go on the wire: the RowDescription columns of a result
// (type OIDs from types.h, format codes from Bind) and DataRows encoded
// straight from the result values into the connection's WireBuffer.
// Stateless, safe from any thread.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gate/pgwire/backend_messages.h"
#include "tablet_data.pb.h"

namespace shale::gate::pgwire {

// The columns of a result under a Bind's result format codes (none: all
// text; one: all columns; else one per column). 08P01 when the number of
// codes fits neither or a code is not 0 or 1.
absl::StatusOr<std::vector<ColumnDescription>> DescribeResult(
    const tablet::QueryResult& data, absl::Span<const int16_t> result_formats);

// The columns of a prepared statement known before it runs: OIDs from the
// declared types only (text when undecided), text format.
std::vector<ColumnDescription> DescribeFields(absl::Span<const tablet::Field> fields);

// Replaces the types of columns with those DescribeFields gives for the
// statement's declared fields (when the counts match), so that rows are
// encoded as a statement Describe announced them.
void UseDeclaredTypes(absl::Span<const tablet::Field> declared,
                      std::vector<ColumnDescription>* columns);

// Appends one DataRow. A row shorter than columns is padded with NULLs. On
// error (a value that cannot be sent in binary, 22P02) the buffer holds a
// partial message: the caller truncates it.
absl::Status EncodeResultRow(const tablet::Row& row, absl::Span<const ColumnDescription> columns,
                             WireBuffer* out);

}  // namespace shale::gate::pgwire
