// Reshard service, VDiff (issue 10, docs/resharding.md "VDiff").
//
// RowHashes (source side): one read transaction; the first response carries
// its snapshot position, then (primary key, RowHash) of every row the filter
// keeps, in primary-key order, in batches (vdiff/row_scan.h).
//
// VDiff (target side, the primary running the streams): per stream and
// table, pause the stream, open RowHashes on the source's primary and read
// its position S, let the stream apply exactly up to S (ResumeUntil), take
// this tablet's own read snapshot, let the stream go, and merge the two
// primary-key ordered sequences (vdiff/table_differ.h) while the source
// streams. The stream is resumed on every path.

#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "changes/tablet_resolver.h"
#include "spdlog/spdlog.h"
#include "tablet/client/tablet_client.h"
#include "tablet/query_result.h"
#include "tablet/reshard/copy_source.h"
#include "tablet/reshard/row_filter.h"
#include "tablet/reshard/stream_manager.h"
#include "tablet/services.h"
#include "tablet/vdiff/pk_order.h"
#include "tablet/vdiff/row_scan.h"
#include "tablet/vdiff/table_differ.h"

namespace shale::tablet {
namespace {

constexpr int kDefaultHashBatchRows = 5000;
constexpr int kDefaultMaxReportedRows = 10;
constexpr absl::Duration kDefaultCatchUpTimeout = absl::Seconds(60);
// How long one table's RowHashes call may run when the VDiff call has no deadline.
constexpr absl::Duration kMaxScanTime = absl::Hours(6);

// status with its message prefixed, code kept.
absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

std::string PositionString(const ChangePosition& p) {
  return absl::StrCat(p.seq(), ".", p.term(), ".", p.row());
}

absl::Status ServeRowHashes(engine::Engine& engine, const RowHashesRequest& request,
                            grpc::ServerWriter<RowHashesResponse>* writer) {
  RETURN_IF_ERROR(reshard::CheckCopyableTable(request.table().table()));
  if (request.batch_rows() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_rows must not be negative, got ", request.batch_rows()));
  }
  const int batch_rows = request.batch_rows() == 0 ? kDefaultHashBatchRows : request.batch_rows();
  const reshard::RowFilter filter(request.table(), request.key_range());

  ASSIGN_OR_RETURN(engine::TxnId txn,
                   engine.Begin(engine::TxnMode::kReadOnly, engine::Access::kDba));
  absl::Cleanup end_txn = [&] { engine.Rollback(txn).IgnoreError(); };
  ASSIGN_OR_RETURN(ChangePosition position, reshard::SnapshotPosition(engine, txn));
  // Bad tables and sharding columns fail before the position goes out.
  ASSIGN_OR_RETURN(vdiff::TableLayout layout,
                   vdiff::ReadTableLayout(engine, txn, request.table().table()));
  RETURN_IF_ERROR(filter.ColumnIndex(layout.columns).status());

  const absl::Status gone = absl::CancelledError("the RowHashes client went away");
  RowHashesResponse response;
  *response.mutable_position() = position;
  if (!writer->Write(response)) return gone;
  response.Clear();
  RETURN_IF_ERROR(vdiff::ScanRowHashes(
      engine, txn, filter,
      [&](absl::Span<const engine::Value> pk, uint64_t hash) -> absl::Status {
        RowHash* row = response.add_rows();
        for (const engine::Value& v : pk) *row->add_pk() = ToProtoValue(v);
        row->set_hash(hash);
        if (response.rows_size() >= batch_rows) {
          if (!writer->Write(response)) return gone;
          response.Clear();
        }
        return absl::OkStatus();
      }));
  if (response.rows_size() > 0 && !writer->Write(response)) return gone;
  return absl::OkStatus();
}

// The source's side of one table: a RowHashes call, read as a cursor.
class RowHashesCursor final : public vdiff::RowHashCursor {
 public:
  RowHashesCursor(std::unique_ptr<TabletClient> client, const RowHashesRequest& request,
                  absl::Time deadline, std::string source_name)
      : client_(std::move(client)), source_name_(std::move(source_name)) {
    context_.set_deadline(absl::ToChronoTime(deadline));
    reader_ = client_->reshard().RowHashes(&context_, request);
  }

  ~RowHashesCursor() override {
    if (!finished_) {
      context_.TryCancel();
      RowHashesResponse drain;
      while (reader_->Read(&drain)) {
      }
      reader_->Finish().ok();  // the call was cancelled: its status is of no interest
    }
  }

  // Reads the first response: the source's snapshot position.
  absl::StatusOr<ChangePosition> Start() {
    if (!reader_->Read(&batch_)) {
      RETURN_IF_ERROR(Finish());
      return absl::InternalError(absl::StrCat("RowHashes on ", source_name_, " sent nothing"));
    }
    if (!batch_.has_position()) {
      return absl::InternalError(
          absl::StrCat("RowHashes on ", source_name_, " sent no snapshot position first"));
    }
    return batch_.position();
  }

  absl::StatusOr<const vdiff::KeyedHash*> Next() override {
    while (next_ >= batch_.rows_size()) {
      if (finished_) return nullptr;
      next_ = 0;
      if (!reader_->Read(&batch_)) {
        RETURN_IF_ERROR(Finish());
        return nullptr;
      }
    }
    const RowHash& row = batch_.rows(next_++);
    ASSIGN_OR_RETURN(current_.pk, FromProtoValues(row.pk()));
    current_.hash = row.hash();
    return &current_;
  }

 private:
  // The call's status once the stream ended; an error names the source.
  absl::Status Finish() {
    finished_ = true;
    batch_.Clear();
    return Prefixed(FromGrpcStatus(reader_->Finish()), absl::StrCat("RowHashes on ", source_name_, ": "));
  }

  std::unique_ptr<TabletClient> client_;
  const std::string source_name_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<RowHashesResponse>> reader_;
  RowHashesResponse batch_;
  int next_ = 0;
  bool finished_ = false;
  vdiff::KeyedHash current_;
};

// The tables VDiff compares for one stream: request.tables it carries, or
// every one it carries.
std::vector<std::string> StreamTables(const topodata::Shard::SourceShard& source,
                                      const std::vector<std::string>& requested,
                                      const std::vector<std::string>& local_tables) {
  const auto carried = [&](const std::string& table) {
    if (source.tables_size() == 0) return true;
    for (const std::string& t : source.tables()) {
      if (absl::EqualsIgnoreCase(t, table)) return true;
    }
    return false;
  };
  std::vector<std::string> out;
  for (const std::string& t : requested.empty() ? local_tables : requested) {
    if (carried(t)) out.push_back(t);
  }
  return out;
}

// This tablet's user tables (what a stream without a table list carries).
absl::StatusOr<std::vector<std::string>> LocalTables(engine::Engine& engine) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   engine.ExecuteInternal(
                       "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                       "'\\_shale\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                       "ORDER BY name"));
  std::vector<std::string> out;
  for (const engine::Row& row : rs.rows) out.push_back(row[0].text());
  return out;
}

// The work of one VDiff call.
class VDiffRun {
 public:
  VDiffRun(TabletContext* ctx, grpc::ServerContext* call, const VDiffRequest& request)
      : ctx_(ctx), call_(call), request_(request) {}

  absl::Status Run(VDiffResponse* response) {
    const StateSnapshot snap = ctx_->state->Snapshot();
    const topodata::Tablet& me = snap.record;
    const std::string name = absl::StrCat(me.keyspace(), "/", me.shard());
    if (me.type() != topodata::PRIMARY || ctx_->streams == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "VDiff runs on the primary of a shard that has resharding streams; tablet ",
          topo::TabletAlias::FromProto(me.alias()).ToString(), " is ",
          topodata::TabletType_Name(me.type()), " of ", name));
    }
    if (request_.max_reported_rows() < 0 || request_.timeout_ms() < 0) {
      return absl::InvalidArgumentError("max_reported_rows and timeout_ms must not be negative");
    }
    max_examples_ =
        request_.max_reported_rows() == 0 ? kDefaultMaxReportedRows : request_.max_reported_rows();
    catch_up_ = request_.timeout_ms() == 0 ? kDefaultCatchUpTimeout
                                           : absl::Milliseconds(request_.timeout_ms());
    ASSIGN_OR_RETURN(topo::ShardInfo shard, ctx_->ts->GetShard(me.keyspace(), me.shard()));
    if (shard.record.source_shards_size() == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("shard ", name, " has no source shards: no resharding streams to compare"));
    }
    key_range_ = shard.record.key_range();
    ASSIGN_OR_RETURN(topo::KeyspaceInfo keyspace, ctx_->ts->GetKeyspace(me.keyspace()));
    ASSIGN_OR_RETURN(topodata::VSchema vschema, ctx_->ts->GetVSchema(me.keyspace()));

    // Every stream must have finished its copy.
    for (const auto& source : shard.record.source_shards()) {
      absl::StatusOr<StreamState> state = ctx_->streams->State(source.uid());
      if (!state.ok()) {
        return Prefixed(state.status(), absl::StrCat("stream ", source.uid(), " from ",
                                                     source.keyspace(), "/", source.shard(), ": "));
      }
      if (state->phase() == COPYING || state->phase() == STREAM_PHASE_UNKNOWN) {
        return absl::FailedPreconditionError(absl::StrCat(
            "stream ", source.uid(), " from ", source.keyspace(), "/", source.shard(),
            " is still copying (", state->tables_copied(), " of ", state->tables_total(),
            " tables, ", state->rows_copied(), " rows); run VDiff when it has finished"));
      }
    }

    std::vector<std::string> requested(request_.tables().begin(), request_.tables().end());
    ASSIGN_OR_RETURN(std::vector<std::string> local, LocalTables(*ctx_->engine));
    // Totals per table, in the order first compared.
    std::vector<TableDiff> totals;
    absl::flat_hash_map<std::string, size_t> index;
    for (const std::string& t : requested) {
      const std::string key = absl::AsciiStrToLower(t);
      if (index.contains(key)) {
        return absl::InvalidArgumentError(absl::StrCat("table ", t, " is named twice"));
      }
      index[key] = totals.size();
      totals.emplace_back().set_table(t);
      bool carried = false;
      for (const auto& source : shard.record.source_shards()) {
        carried = carried || !StreamTables(source, {t}, local).empty();
      }
      if (!carried) {
        return absl::InvalidArgumentError(
            absl::StrCat("no stream of ", name, " carries table ", t));
      }
    }
    for (const auto& source : shard.record.source_shards()) {
      StreamState compared_at;
      bool compared = false;
      for (const std::string& table : StreamTables(source, requested, local)) {
        ASSIGN_OR_RETURN(TableFilter filter, reshard::FilterForTable(table, vschema, keyspace.record));
        absl::StatusOr<vdiff::DiffCounts> counts = CompareTable(source, filter, &compared_at);
        if (!counts.ok()) {
          return Prefixed(counts.status(),
                          absl::StrCat("table ", table, ", stream ", source.uid(), " from ",
                                       source.keyspace(), "/", source.shard(), ": "));
        }
        compared = true;
        const std::string key = absl::AsciiStrToLower(table);
        if (!index.contains(key)) {
          index[key] = totals.size();
          totals.emplace_back().set_table(table);
        }
        vdiff::AddToTableDiff(*counts, max_examples_, &totals[index[key]]);
      }
      if (!compared) {
        ASSIGN_OR_RETURN(compared_at, ctx_->streams->State(source.uid()));
      }
      *response->add_streams() = compared_at;
    }
    for (TableDiff& t : totals) *response->add_tables() = std::move(t);
    return absl::OkStatus();
  }

 private:
  // One table of one stream: pause, source snapshot at S, stream to S, own
  // snapshot, resume, merge. *state: the stream at S.
  absl::StatusOr<vdiff::DiffCounts> CompareTable(const topodata::Shard::SourceShard& source,
                                                 const TableFilter& filter, StreamState* state) {
    reshard::StreamManager& streams = *ctx_->streams;
    engine::Engine& engine = *ctx_->engine;
    const std::string source_name = absl::StrCat(source.keyspace(), "/", source.shard());
    ASSIGN_OR_RETURN(std::vector<changes::TabletTarget> primary,
                     changes::ResolveShardTablets(*ctx_->ts, source.keyspace(), source.shard(),
                                                  topodata::PRIMARY));
    RowHashesRequest rq;
    *rq.mutable_table() = filter;
    *rq.mutable_key_range() = key_range_;

    RETURN_IF_ERROR(streams.Pause(source.uid()).status());
    bool paused = true;
    absl::Cleanup resume = [&] {
      if (paused) streams.Resume(source.uid());
    };
    RowHashesCursor cursor(TabletClient::Connect(primary[0].address), rq, ScanDeadline(),
                           absl::StrCat(source_name, " primary ", primary[0].alias.ToString()));
    ASSIGN_OR_RETURN(const ChangePosition at, cursor.Start());
    absl::StatusOr<StreamState> caught_up =
        streams.ResumeUntil(source.uid(), at, absl::Now() + catch_up_);
    if (!caught_up.ok()) {
      return Prefixed(caught_up.status(), absl::StrCat("catching up to the source's snapshot at ",
                                                       PositionString(at), ": "));
    }
    *state = *std::move(caught_up);
    ASSIGN_OR_RETURN(engine::TxnId txn,
                     engine.Begin(engine::TxnMode::kReadOnly, engine::Access::kDba));
    absl::Cleanup end_txn = [&] { engine.Rollback(txn).IgnoreError(); };
    // The first read fixes this transaction's snapshot: the stream at S.
    RETURN_IF_ERROR(reshard::SnapshotPosition(engine, txn).status());
    streams.Resume(source.uid());
    paused = false;

    // The target's rows of this source's part of the key space.
    const reshard::RowFilter own(filter, source.key_range());
    vdiff::TableDiffer differ(&cursor, max_examples_);
    RETURN_IF_ERROR(vdiff::ScanRowHashes(engine, txn, own,
                                         [&](absl::Span<const engine::Value> pk, uint64_t hash) {
                                           return differ.AddTarget(pk, hash);
                                         }));
    RETURN_IF_ERROR(differ.Finish());
    return differ.counts();
  }

  // The caller's deadline, at most kMaxScanTime from now.
  absl::Time ScanDeadline() const {
    const auto call = call_->deadline();
    if (call < std::chrono::system_clock::now() + absl::ToChronoSeconds(kMaxScanTime)) {
      return absl::FromChrono(call);
    }
    return absl::Now() + kMaxScanTime;
  }

  TabletContext* const ctx_;
  grpc::ServerContext* const call_;
  const VDiffRequest& request_;
  int max_examples_ = kDefaultMaxReportedRows;
  absl::Duration catch_up_ = kDefaultCatchUpTimeout;
  topodata::KeyRange key_range_;
};

}  // namespace

grpc::Status ReshardService::RowHashes(grpc::ServerContext*, const RowHashesRequest* request,
                                       grpc::ServerWriter<RowHashesResponse>* writer) {
  return RunTabletCall(ctx_, [&] { return ServeRowHashes(*ctx_->engine, *request, writer); });
}

grpc::Status ReshardService::VDiff(grpc::ServerContext* context, const VDiffRequest* request,
                                   VDiffResponse* response) {
  return RunTabletCall(ctx_, [&] { return VDiffRun(ctx_, context, *request).Run(response); });
}

}  // namespace shale::tablet
