#include "tablet/vdiff/table_differ.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/vdiff/pk_order.h"

namespace shale::tablet::vdiff {

TableDiffer::TableDiffer(RowHashCursor* source, int max_examples)
    : source_(source), max_examples_(max_examples) {}

absl::Status TableDiffer::Advance() {
  ASSIGN_OR_RETURN(pending_, source_->Next());
  if (pending_ == nullptr) return absl::OkStatus();
  if (have_last_source_ && ComparePk(last_source_, pending_->pk) >= 0) {
    return absl::InternalError(absl::StrCat("the source's rows are not in primary-key order: pk=",
                                            FormatPk(pending_->pk), " after pk=",
                                            FormatPk(last_source_)));
  }
  last_source_ = pending_->pk;
  have_last_source_ = true;
  ++counts_.source_rows;
  counts_.source_checksum += pending_->hash;
  return absl::OkStatus();
}

void TableDiffer::Example(absl::string_view what, absl::Span<const engine::Value> pk) {
  if (static_cast<int>(counts_.examples.size()) < max_examples_) {
    counts_.examples.push_back(absl::StrCat(what, " pk=", FormatPk(pk)));
  }
}

absl::Status TableDiffer::AddTarget(absl::Span<const engine::Value> pk, uint64_t hash) {
  if (!started_) {
    started_ = true;
    RETURN_IF_ERROR(Advance());
  }
  if (have_last_target_ && ComparePk(last_target_, pk) >= 0) {
    return absl::InternalError(absl::StrCat("the target's rows are not in primary-key order: pk=",
                                            FormatPk(pk), " after pk=", FormatPk(last_target_)));
  }
  last_target_.assign(pk.begin(), pk.end());
  have_last_target_ = true;
  ++counts_.target_rows;
  counts_.target_checksum += hash;
  while (pending_ != nullptr) {
    const int c = ComparePk(pending_->pk, pk);
    if (c > 0) break;
    if (c < 0) {
      ++counts_.missing_on_target;
      Example("missing", pending_->pk);
    } else if (pending_->hash != hash) {
      ++counts_.different;
      Example("different", pk);
    }
    const bool same = c == 0;
    RETURN_IF_ERROR(Advance());
    if (same) return absl::OkStatus();
  }
  ++counts_.extra_on_target;
  Example("extra", pk);
  return absl::OkStatus();
}

absl::Status TableDiffer::Finish() {
  if (!started_) {
    started_ = true;
    RETURN_IF_ERROR(Advance());
  }
  while (pending_ != nullptr) {
    ++counts_.missing_on_target;
    Example("missing", pending_->pk);
    RETURN_IF_ERROR(Advance());
  }
  return absl::OkStatus();
}

void AddToTableDiff(const DiffCounts& counts, int max_examples, TableDiff* out) {
  out->set_source_rows(out->source_rows() + counts.source_rows);
  out->set_target_rows(out->target_rows() + counts.target_rows);
  out->set_missing_on_target(out->missing_on_target() + counts.missing_on_target);
  out->set_extra_on_target(out->extra_on_target() + counts.extra_on_target);
  out->set_different(out->different() + counts.different);
  for (const std::string& e : counts.examples) {
    if (out->examples_size() >= max_examples) break;
    out->add_examples(e);
  }
  out->set_match(out->missing_on_target() == 0 && out->extra_on_target() == 0 &&
                 out->different() == 0);
}

}  // namespace shale::tablet::vdiff
