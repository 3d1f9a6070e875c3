#include "gate/merge/merge.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gate/merge/aggregate.h"
#include "gate/merge/distinct.h"
#include "gate/merge/merge_error.h"
#include "gate/merge/row_list.h"
#include "gate/merge/row_order.h"

namespace shale::gate::merge {
namespace {

using FieldList = google::protobuf::RepeatedPtrField<tablet::Field>;

// The shard results taken apart: their fields, their rows by pointer (one
// run per shard, in shard order) and their counters.
struct Inputs {
  FieldList fields;
  int columns = -1;  // -1: no shard returned fields or rows
  int64_t rows_affected = 0;
  int64_t last_insert_id = 0;
  std::vector<RowList> runs;
};

RowList TakeRows(tablet::QueryResult& result) {
  const int n = result.rows_size();
  RowList rows;
  if (n == 0) return rows;
  std::vector<tablet::Row*> raw(n);
  result.mutable_rows()->ExtractSubrange(0, n, raw.data());
  rows.reserve(n);
  for (tablet::Row* row : raw) rows.emplace_back(row);
  return rows;
}

absl::Status CheckColumns(int shard, int got, int* columns, absl::string_view what) {
  if (*columns < 0) {
    *columns = got;
  } else if (got != *columns) {
    return MergeInternalError(absl::StrCat("shard result ", shard, " has ", got, " ", what,
                                           " where another has ", *columns, " columns"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Inputs> TakeInputs(std::vector<tablet::QueryResult>& results) {
  Inputs in;
  for (size_t s = 0; s < results.size(); ++s) {
    tablet::QueryResult& result = results[s];
    const int fields = result.fields_size();
    if (fields > 0) {
      if (in.columns < 0) in.fields.Swap(result.mutable_fields());
      RETURN_IF_ERROR(CheckColumns(s, fields, &in.columns, "fields"));
    }
    in.rows_affected += result.rows_affected();
    if (in.last_insert_id == 0) in.last_insert_id = result.last_insert_id();
  }
  in.runs.reserve(results.size());
  for (size_t s = 0; s < results.size(); ++s) {
    for (const tablet::Row& row : results[s].rows()) {
      RETURN_IF_ERROR(CheckColumns(s, row.values_size(), &in.columns, "values in a row"));
    }
    in.runs.push_back(TakeRows(results[s]));
  }
  return in;
}

absl::Status CheckColumn(int column, int columns, absl::string_view what) {
  if (column < 0 || column >= columns) {
    return MergeInternalError(
        absl::StrCat(what, " names column ", column, " of a ", columns, "-column result"));
  }
  return absl::OkStatus();
}

// Every column the spec names exists (when the results have any columns).
absl::Status CheckSpec(const MergeSpec& spec, int columns) {
  if (spec.visible_columns < -1 || (columns >= 0 && spec.visible_columns > columns)) {
    return MergeInternalError(absl::StrCat("visible_columns ", spec.visible_columns, " for a ",
                                           columns, "-column result"));
  }
  if (columns < 0) return absl::OkStatus();
  for (int column : spec.group_by) RETURN_IF_ERROR(CheckColumn(column, columns, "GROUP BY"));
  for (const OrderKey& key : spec.order_by) {
    RETURN_IF_ERROR(CheckColumn(key.column, columns, "ORDER BY"));
  }
  for (const Aggregate& agg : spec.aggregates) {
    RETURN_IF_ERROR(CheckColumn(agg.column, columns, "an aggregate"));
    if (agg.kind == AggKind::kAvg) {
      RETURN_IF_ERROR(CheckColumn(agg.count_column, columns, "AVG's count"));
    }
  }
  return absl::OkStatus();
}

// How many merged rows OFFSET + LIMIT can use, when nothing between merging
// and slicing drops rows (no DISTINCT); nullopt for all of them.
std::optional<size_t> RowsNeeded(const MergeSpec& spec) {
  if (!spec.limit || *spec.limit < 0 || spec.distinct) return std::nullopt;
  const uint64_t offset = static_cast<uint64_t>(std::max<int64_t>(spec.offset, 0));
  const uint64_t limit = static_cast<uint64_t>(*spec.limit);
  return offset + limit;  // both below 2^63: no wrap-around
}

RowList Concatenate(std::vector<RowList> runs, std::optional<size_t> max_rows) {
  RowList all;
  for (RowList& run : runs) {
    for (RowPtr& row : run) {
      if (max_rows && all.size() >= *max_rows) return all;
      all.push_back(std::move(row));
    }
  }
  return all;
}

// Aggregation or the ORDER BY merge or plain concatenation.
absl::StatusOr<RowList> CombineRuns(std::vector<RowList> runs, const MergeSpec& spec) {
  if (spec.aggregate) {
    ASSIGN_OR_RETURN(RowList groups,
                     AggregateRows(Concatenate(std::move(runs), std::nullopt), spec));
    if (!spec.order_by.empty()) StableSortRows(groups, RowOrder(spec.order_by));
    return groups;
  }
  if (!spec.order_by.empty()) {
    return MergeSortedRuns(std::move(runs), RowOrder(spec.order_by), RowsNeeded(spec));
  }
  return Concatenate(std::move(runs), RowsNeeded(spec));
}

void ApplyOffsetLimit(RowList& rows, const MergeSpec& spec) {
  const size_t begin = std::min<uint64_t>(rows.size(), std::max<int64_t>(spec.offset, 0));
  size_t end = rows.size();
  if (spec.limit && *spec.limit >= 0) {
    end = begin + std::min<uint64_t>(end - begin, static_cast<uint64_t>(*spec.limit));
  }
  rows.erase(rows.begin() + end, rows.end());
  rows.erase(rows.begin(), rows.begin() + begin);
}

tablet::QueryResult BuildResult(Inputs& in, RowList rows, int visible) {
  tablet::QueryResult out;
  out.mutable_fields()->Swap(&in.fields);
  if (visible >= 0 && visible < out.fields_size()) {
    out.mutable_fields()->DeleteSubrange(visible, out.fields_size() - visible);
  }
  out.mutable_rows()->Reserve(rows.size());
  for (RowPtr& row : rows) {
    if (visible >= 0 && visible < row->values_size()) {
      row->mutable_values()->DeleteSubrange(visible, row->values_size() - visible);
    }
    out.mutable_rows()->AddAllocated(row.release());
  }
  out.set_rows_affected(in.rows_affected);
  out.set_last_insert_id(in.last_insert_id);
  return out;
}

}  // namespace

absl::StatusOr<tablet::QueryResult> Merge(std::vector<tablet::QueryResult> shard_results,
                                          const MergeSpec& spec) {
  ASSIGN_OR_RETURN(Inputs in, TakeInputs(shard_results));
  RETURN_IF_ERROR(CheckSpec(spec, in.columns));
  ASSIGN_OR_RETURN(RowList rows, CombineRuns(std::move(in.runs), spec));
  if (spec.distinct) {
    DropDuplicateRows(rows, spec.visible_columns >= 0 ? spec.visible_columns : in.columns);
  }
  ApplyOffsetLimit(rows, spec);
  return BuildResult(in, std::move(rows), spec.visible_columns);
}

}  // namespace shale::gate::merge
