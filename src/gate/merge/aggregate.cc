#include "gate/merge/aggregate.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/status_macros.h"
#include "gate/merge/merge_error.h"
#include "gate/merge/row_order.h"
#include "gate/merge/value_compare.h"

namespace shale::gate::merge {
namespace {

using Group = absl::Span<const RowPtr>;

tablet::Value NullValue() {
  tablet::Value v;
  v.set_null(true);
  return v;
}

tablet::Value IntValue(int64_t i) {
  tablet::Value v;
  v.set_int64(i);
  return v;
}

tablet::Value RealValue(double r) {
  tablet::Value v;
  v.set_float64(r);
  return v;
}

// SQLite's SumCtx fed with per-shard partial sums instead of single values:
// an integer sum while only integers come in (overflow remembered), a real
// sum of everything, and whether any non-NULL value or any real was seen.
// A local of one fold on one thread.
class PartialSum {
 public:
  absl::Status Add(const tablet::Value& v, int column) {
    if (IsSqlNull(v)) return absl::OkStatus();
    seen_ = true;
    if (v.kind_case() == tablet::Value::kInt64) {
      real_sum_ += static_cast<double>(v.int64());
      if (!approx_ && !overflow_ && __builtin_add_overflow(int_sum_, v.int64(), &int_sum_)) {
        overflow_ = true;
      }
      return absl::OkStatus();
    }
    if (v.kind_case() == tablet::Value::kFloat64) {
      real_sum_ += v.float64();
      approx_ = true;
      return absl::OkStatus();
    }
    return MergeInternalError(
        absl::StrCat("column ", column, " holds a text or blob where a partial sum belongs"));
  }

  // SUM: NULL for no values, a real if any real was added, else the integer.
  absl::StatusOr<tablet::Value> Sum() const {
    if (!seen_) return NullValue();
    if (approx_) return RealValue(real_sum_);
    if (overflow_) return IntegerOverflowError();
    return IntValue(int_sum_);
  }

  double real_sum() const { return real_sum_; }

 private:
  bool seen_ = false;
  bool approx_ = false;
  bool overflow_ = false;
  int64_t int_sum_ = 0;
  double real_sum_ = 0.0;
};

absl::StatusOr<PartialSum> AddColumn(Group group, int column) {
  PartialSum sum;
  for (const RowPtr& row : group) RETURN_IF_ERROR(sum.Add(row->values(column), column));
  return sum;
}

absl::StatusOr<int64_t> AddCounts(Group group, int column) {
  int64_t count = 0;
  for (const RowPtr& row : group) {
    const tablet::Value& v = row->values(column);
    if (IsSqlNull(v)) continue;
    if (v.kind_case() != tablet::Value::kInt64) {
      return MergeInternalError(absl::StrCat("COUNT column ", column, " holds a non-integer"));
    }
    if (__builtin_add_overflow(count, v.int64(), &count)) return IntegerOverflowError();
  }
  return count;
}

// The index of the row with the smallest (largest) non-NULL value in column;
// the first one among equals, as SQLite's min()/max() keep the first. nullopt
// when every value is NULL.
std::optional<size_t> FindExtreme(Group group, int column, bool max) {
  std::optional<size_t> best;
  for (size_t i = 0; i < group.size(); ++i) {
    const tablet::Value& v = group[i]->values(column);
    if (IsSqlNull(v)) continue;
    if (!best) {
      best = i;
      continue;
    }
    const int c = CompareValues(v, group[*best]->values(column));
    if (max ? c > 0 : c < 0) best = i;
  }
  return best;
}

// One merged aggregate of a group. *winner is set for kMin/kMax.
absl::StatusOr<tablet::Value> FoldAggregate(const Aggregate& agg, Group group,
                                            std::optional<size_t>* winner) {
  switch (agg.kind) {
    case AggKind::kCount: {
      ASSIGN_OR_RETURN(const int64_t count, AddCounts(group, agg.column));
      return IntValue(count);
    }
    case AggKind::kSum: {
      ASSIGN_OR_RETURN(const PartialSum sum, AddColumn(group, agg.column));
      return sum.Sum();
    }
    case AggKind::kTotal: {
      ASSIGN_OR_RETURN(const PartialSum sum, AddColumn(group, agg.column));
      return RealValue(sum.real_sum());
    }
    case AggKind::kAvg: {
      ASSIGN_OR_RETURN(const PartialSum sum, AddColumn(group, agg.column));
      ASSIGN_OR_RETURN(const int64_t count, AddCounts(group, agg.count_column));
      if (count == 0) return NullValue();
      return RealValue(sum.real_sum() / static_cast<double>(count));
    }
    case AggKind::kMin:
    case AggKind::kMax:
      *winner = FindExtreme(group, agg.column, agg.kind == AggKind::kMax);
      if (!*winner) return NullValue();
      return group[**winner]->values(agg.column);
    case AggKind::kAnyValue:
      break;  // not merged: FoldGroup keeps the bare row's value
  }
  return NullValue();
}

// How a spec's aggregates apply to every group, worked out once.
struct GroupPlan {
  std::vector<bool> computed;         // per column: holds a merged aggregate
  std::optional<size_t> bare_source;  // the only kMin/kMax aggregate, if exactly one
};

GroupPlan PlanGroups(const MergeSpec& spec, int columns) {
  GroupPlan plan;
  plan.computed.assign(columns, false);
  int extremes = 0;
  for (size_t i = 0; i < spec.aggregates.size(); ++i) {
    const Aggregate& agg = spec.aggregates[i];
    if (agg.kind == AggKind::kAnyValue) continue;
    plan.computed[agg.column] = true;
    if (agg.kind == AggKind::kMin || agg.kind == AggKind::kMax) {
      ++extremes;
      plan.bare_source = i;
    }
  }
  if (extremes != 1) plan.bare_source.reset();
  return plan;
}

// Folds one group (a non-empty span of rows, consumed) into its output row.
absl::StatusOr<RowPtr> FoldGroup(absl::Span<RowPtr> group, const MergeSpec& spec,
                                 const GroupPlan& plan) {
  std::vector<tablet::Value> merged(spec.aggregates.size());
  size_t bare_row = 0;
  for (size_t i = 0; i < spec.aggregates.size(); ++i) {
    if (spec.aggregates[i].kind == AggKind::kAnyValue) continue;
    std::optional<size_t> winner;
    ASSIGN_OR_RETURN(merged[i], FoldAggregate(spec.aggregates[i], group, &winner));
    if (plan.bare_source == i && winner) bare_row = *winner;
  }
  RowPtr out = std::move(group[0]);
  if (bare_row != 0) {
    tablet::Row& source = *group[bare_row];
    for (int c = 0; c < out->values_size(); ++c) {
      if (!plan.computed[c]) out->mutable_values(c)->Swap(source.mutable_values(c));
    }
  }
  for (size_t i = 0; i < spec.aggregates.size(); ++i) {
    if (spec.aggregates[i].kind == AggKind::kAnyValue) continue;
    *out->mutable_values(spec.aggregates[i].column) = std::move(merged[i]);
  }
  return out;
}

}  // namespace

absl::StatusOr<RowList> AggregateRows(RowList rows, const MergeSpec& spec) {
  RowList groups;
  if (rows.empty()) return groups;
  const RowOrder key_order = RowOrder::Ascending(spec.group_by);
  if (!spec.group_by.empty()) StableSortRows(rows, key_order);
  const GroupPlan plan = PlanGroups(spec, rows[0]->values_size());
  const absl::Span<RowPtr> all = absl::MakeSpan(rows);
  size_t begin = 0;
  while (begin < rows.size()) {
    size_t end = begin + 1;
    while (end < rows.size() && key_order.Compare(*rows[begin], *rows[end]) == 0) ++end;
    ASSIGN_OR_RETURN(RowPtr row, FoldGroup(all.subspan(begin, end - begin), spec, plan));
    groups.push_back(std::move(row));
    begin = end;
  }
  return groups;
}

}  // namespace shale::gate::merge
