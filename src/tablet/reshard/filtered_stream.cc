#include "tablet/reshard/filtered_stream.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/backoff.h"
#include "base/grpc_tls/credentials.h"
#include "base/status_macros.h"
#include "changes/keyspace_position.h"
#include "changes/tablet_resolver.h"
#include "spdlog/spdlog.h"
#include "tablet/client/grpc_status.h"
#include "tablet/client/tablet_client.h"
#include "tablet/engine/connection.h"
#include "tablet/query_result.h"
#include "tablet/reshard/event_applier.h"
#include "tablet/reshard/sql_ident.h"
#include "tablet_service.grpc.pb.h"

namespace shale::tablet::reshard {
namespace {

using changes::FormatChangePosition;
using changes::PositionAfter;

// Rows deleted per transaction when an interrupted copy is undone.
constexpr size_t kCleanupBatch = 500;
// How often a stream that applies nothing still writes its position.
constexpr absl::Duration kPersistEvery = absl::Seconds(1);

bool SamePosition(const ChangePosition& a, const ChangePosition& b) {
  return a.seq() == b.seq() && a.row() == b.row();
}

std::string Describe(const topodata::Shard::SourceShard& s) {
  return absl::StrCat("stream ", s.uid(), " from ", s.keyspace(), "/", s.shard());
}

absl::StatusOr<std::string> SourcePrimary(topo::Server& ts,
                                          const topodata::Shard::SourceShard& source) {
  ASSIGN_OR_RETURN(std::vector<changes::TabletTarget> targets,
                   changes::ResolveShardTablets(ts, source.keyspace(), source.shard(),
                                                topodata::PRIMARY));
  return targets.front().address;
}

absl::Status CheckWritable(const engine::Engine& engine) {
  if (!engine.IsReadOnly()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "this tablet is read-only (not the primary): streams apply nothing here");
}

}  // namespace

FilteredStream::FilteredStream(topo::Server* ts, engine::Engine* engine, StreamConfig config)
    : ts_(ts), engine_(engine), config_(std::move(config)) {
  record_ = NewRecord(config_.source);
}

FilteredStream::~FilteredStream() { Stop(); }

void FilteredStream::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void FilteredStream::Stop() {
  // Serialises callers (the manager's Stop and a Reconcile may both stop it).
  absl::MutexLock stop_lock(&stop_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (copy_call_ != nullptr) copy_call_->TryCancel();
    if (follow_ != nullptr) follow_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool FilteredStream::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void FilteredStream::Loop() {
  Backoff backoff(config_.backoff_initial, config_.backoff_max);
  spdlog::info("reshard: {} starts", Describe(config_.source));
  while (!stopping()) {
    absl::Status s = RunOnce();
    if (stopping()) break;
    if (s.ok()) {
      backoff.Reset();
      continue;
    }
    spdlog::warn("reshard: {}: {}; retrying", Describe(config_.source), s.ToString());
    RecordError(s);
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff.Next());
  }
  spdlog::info("reshard: {} stopped", Describe(config_.source));
}

void FilteredStream::RecordError(const absl::Status& status) {
  StreamRecord rec;
  {
    absl::MutexLock lock(&mu_);
    failing_ = true;
    error_ = status.ToString();
    if (!loaded_) return;
    rec = record_;
  }
  rec.state.set_last_error(status.ToString());
  // Best effort: a tablet that is no longer the primary writes nothing.
  absl::Status s = engine_->RunInternalWrite([&](engine::WriteTxn& txn) -> absl::Status {
    RETURN_IF_ERROR(CheckWritable(*engine_));
    return WriteRecord(txn, &rec);
  });
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    record_ = rec;
  }
}

absl::Status FilteredStream::Commit(StreamRecord next,
                                    const std::function<absl::Status(engine::WriteTxn&)>& fn) {
  next.state.set_last_error("");
  RETURN_IF_ERROR(engine_->RunInternalWrite([&](engine::WriteTxn& txn) -> absl::Status {
    // Checked with the writer held: a planned migration makes the engine
    // read-only before it appends its CHANGE_CONFIG, so no stream write
    // lands after that entry.
    RETURN_IF_ERROR(CheckWritable(*engine_));
    if (fn) RETURN_IF_ERROR(fn(txn));
    return WriteRecord(txn, &next);
  }));
  absl::MutexLock lock(&mu_);
  record_ = std::move(next);
  loaded_ = true;
  failing_ = false;
  error_.clear();
  return absl::OkStatus();
}

absl::Status FilteredStream::RunOnce() {
  ASSIGN_OR_RETURN(std::optional<StreamRecord> stored, ReadRecord(*engine_, uid()));
  if (stored.has_value() && SameSource(*stored, config_.source)) {
    absl::MutexLock lock(&mu_);
    record_ = *std::move(stored);
    loaded_ = true;
  } else {
    RETURN_IF_ERROR(Commit(NewRecord(config_.source), nullptr));
  }
  absl::StatusOr<topodata::VSchema> vschema = ts_->GetVSchema(config_.keyspace);
  if (vschema.ok()) {
    vschema_ = *std::move(vschema);
  } else if (absl::IsNotFound(vschema.status())) {
    vschema_.Clear();
  } else {
    return vschema.status();
  }
  ASSIGN_OR_RETURN(topo::KeyspaceInfo keyspace, ts_->GetKeyspace(config_.keyspace));
  keyspace_ = keyspace.record;
  filters_.clear();

  bool copying;
  {
    absl::MutexLock lock(&mu_);
    copying = record_.state.phase() == COPYING;
  }
  if (copying) RETURN_IF_ERROR(Copy());
  return Follow();
}

absl::StatusOr<TableFilter> FilteredStream::FilterOf(const std::string& table) {
  return FilterForTable(table, vschema_, keyspace_);
}

absl::StatusOr<std::vector<TableFilter>> FilteredStream::CopyTables() {
  std::vector<std::string> names(config_.source.tables().begin(), config_.source.tables().end());
  if (names.empty()) {
    ASSIGN_OR_RETURN(std::string address, SourcePrimary(*ts_, config_.source));
    std::unique_ptr<TabletClient> client = TabletClient::Connect(address);
    ExecuteFetchAsDbaRequest request;
    request.set_sql(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE '\\_shale\\_%' "
        "ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
    absl::StatusOr<ExecuteFetchAsDbaResponse> r =
        client->Call(client->manager(), &TabletManager::Stub::ExecuteFetchAsDba, request,
                     absl::Seconds(10));
    if (!r.ok()) {
      return absl::Status(r.status().code(), absl::StrCat("listing the tables of ",
                                                          config_.source.keyspace(), "/",
                                                          config_.source.shard(), " on ", address,
                                                          ": ", r.status().message()));
    }
    for (const Row& row : r->result().rows()) names.push_back(row.values(0).text());
  }
  std::vector<TableFilter> out;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(TableFilter f, FilterOf(name));
    out.push_back(std::move(f));
  }
  return out;
}

absl::Status FilteredStream::CleanUpCopy(const std::vector<TableFilter>& tables) {
  for (const TableFilter& t : tables) {
    ASSIGN_OR_RETURN(engine::ResultSet pk,
                     engine_->ExecuteInternal(
                         "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
                         {engine::Value(t.table())}));
    if (pk.rows.empty()) continue;  // not created yet
    const std::string table = QuoteIdent(t.table());
    if (t.column().empty()) {
      RETURN_IF_ERROR(engine_->RunInternalWrite([&](engine::WriteTxn& txn) {
        return txn.Execute(absl::StrCat("DELETE FROM ", table), {}, engine::Access::kInternal)
            .status();
      }));
      continue;
    }
    // The rows this source may have sent: keyspace id in the source's range.
    RowFilter from_source(t, config_.source.key_range());
    std::vector<std::string> pk_names;
    std::string select = "SELECT ";
    for (const engine::Row& r : pk.rows) {
      pk_names.push_back(r[0].text());
      absl::StrAppend(&select, QuoteIdent(r[0].text()), ", ");
    }
    absl::StrAppend(&select, QuoteIdent(t.column()), " FROM ", table);
    ASSIGN_OR_RETURN(engine::ResultSet rows, engine_->ExecuteInternal(select));
    std::vector<const engine::Row*> doomed;
    for (const engine::Row& r : rows.rows) {
      ASSIGN_OR_RETURN(bool mine, from_source.KeepValue(ToProtoValue(r.back())));
      if (mine) doomed.push_back(&r);
    }
    std::string del = absl::StrCat("DELETE FROM ", table, " WHERE ");
    for (size_t i = 0; i < pk_names.size(); ++i) {
      absl::StrAppend(&del, i > 0 ? " AND " : "", QuoteIdent(pk_names[i]), " = ?", i + 1);
    }
    for (size_t i = 0; i < doomed.size(); i += kCleanupBatch) {
      RETURN_IF_ERROR(engine_->RunInternalWrite([&](engine::WriteTxn& txn) -> absl::Status {
        for (size_t j = i; j < std::min(doomed.size(), i + kCleanupBatch); ++j) {
          std::vector<engine::Value> binds(doomed[j]->begin(),
                                           doomed[j]->begin() + pk_names.size());
          RETURN_IF_ERROR(txn.Execute(del, binds, engine::Access::kInternal).status());
        }
        return absl::OkStatus();
      }));
    }
    spdlog::info("reshard: {}: undid an interrupted copy of {}: {} rows deleted",
                 Describe(config_.source), t.table(), doomed.size());
  }
  return absl::OkStatus();
}

absl::Status FilteredStream::Copy() {
  ASSIGN_OR_RETURN(std::vector<TableFilter> tables, CopyTables());
  StreamRecord rec;
  {
    absl::MutexLock lock(&mu_);
    rec = record_;
  }
  // A copy began before (its row says so): undo it, then start afresh.
  if (rec.state.tables_total() > 0) RETURN_IF_ERROR(CleanUpCopy(tables));
  rec.state.set_rows_copied(0);
  rec.state.set_tables_copied(0);
  rec.state.set_tables_total(static_cast<int64_t>(tables.size()));
  rec.state.set_copying_table("");
  rec.state.clear_position();
  if (tables.empty()) {
    // Nothing to copy: stream from the source's position now.
    changes::ShardStreamOptions o;
    o.keyspace = config_.source.keyspace();
    o.shard = config_.source.shard();
    ASSIGN_OR_RETURN(ChangePosition now, changes::CurrentShardPosition(*ts_, o));
    rec.state.set_phase(RUNNING);
    *rec.state.mutable_position() = now;
    return Commit(rec, nullptr);
  }
  RETURN_IF_ERROR(Commit(rec, nullptr));

  ASSIGN_OR_RETURN(std::string address, SourcePrimary(*ts_, config_.source));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  std::unique_ptr<Reshard::Stub> stub = Reshard::NewStub(grpc_tls::NewChannel(address, args));
  grpc::ClientContext context;
  CopyRowsRequest request;
  for (const TableFilter& t : tables) *request.add_tables() = t;
  *request.mutable_key_range() = config_.key_range;
  request.set_batch_rows(config_.copy_batch_rows);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    copy_call_ = &context;
  }
  spdlog::info("reshard: {}: copying {} tables from {}", Describe(config_.source), tables.size(),
               address);
  std::unique_ptr<grpc::ClientReader<CopyRowsResponse>> reader = stub->CopyRows(&context, request);
  CopyRowsResponse response;
  std::optional<ChangePosition> snapshot;
  std::vector<std::string> columns;
  std::string table;
  absl::Status status;
  while (status.ok() && reader->Read(&response)) {
    if (response.has_position()) snapshot = response.position();
    if (response.schema_size() > 0 || response.columns_size() > 0) {
      table = response.table();
      columns.assign(response.columns().begin(), response.columns().end());
      rec.state.set_copying_table(table);
      status = Commit(rec, [&](engine::WriteTxn& txn) {
        return EnsureTable(txn, table, response.schema()).status();
      });
      if (!status.ok()) break;
    }
    if (response.rows_size() == 0 && !response.table_done()) continue;
    if (response.table() != table) {
      status = absl::InternalError(absl::StrCat("CopyRows sent rows of ", response.table(),
                                                " before its schema"));
      break;
    }
    StreamRecord next = rec;
    next.state.set_rows_copied(rec.state.rows_copied() + response.rows_size());
    if (response.table_done()) {
      next.state.set_tables_copied(rec.state.tables_copied() + 1);
      next.state.set_copying_table("");
    }
    status = Commit(next, [&](engine::WriteTxn& txn) -> absl::Status {
      for (const Row& row : response.rows()) {
        RETURN_IF_ERROR(InsertRow(txn, table, columns, row.values()));
      }
      return absl::OkStatus();
    });
    if (!status.ok()) break;
    rec = next;
    if (config_.rows_copied != nullptr) config_.rows_copied->Inc(response.rows_size());
  }
  if (!status.ok()) context.TryCancel();
  grpc::Status finish = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    copy_call_ = nullptr;
  }
  RETURN_IF_ERROR(status);
  if (!finish.ok()) {
    absl::Status s = FromGrpcStatus(finish);
    return absl::Status(s.code(), absl::StrCat("CopyRows on ", address, ": ", s.message()));
  }
  if (!snapshot.has_value() || rec.state.tables_copied() != rec.state.tables_total()) {
    return absl::InternalError(absl::StrCat("CopyRows on ", address, " ended after ",
                                            rec.state.tables_copied(), " of ",
                                            rec.state.tables_total(), " tables"));
  }
  rec.state.set_phase(RUNNING);
  *rec.state.mutable_position() = *snapshot;
  RETURN_IF_ERROR(Commit(rec, nullptr));
  spdlog::info("reshard: {}: copied {} rows of {} tables; streaming from {}",
               Describe(config_.source), rec.state.rows_copied(), rec.state.tables_total(),
               FormatChangePosition(*snapshot));
  return absl::OkStatus();
}

absl::Status FilteredStream::Follow() {
  ChangePosition from;
  {
    absl::MutexLock lock(&mu_);
    from = record_.state.position();
  }
  changes::ShardStreamOptions o;
  o.keyspace = config_.source.keyspace();
  o.shard = config_.source.shard();
  o.tablet_type = topodata::PRIMARY;
  o.tables.assign(config_.source.tables().begin(), config_.source.tables().end());
  o.backoff_initial = config_.backoff_initial;
  o.backoff_max = config_.backoff_max;
  apply_error_.reset();
  changes::ShardStream stream(ts_, o, from, [this](std::vector<ChangeEvent> events) {
    return OnEvents(std::move(events));
  });
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::OkStatus();
    follow_ = &stream;
  }
  absl::Status s = stream.Run();
  {
    absl::MutexLock lock(&mu_);
    follow_ = nullptr;
  }
  if (apply_error_.has_value()) return *apply_error_;
  return s;
}

bool FilteredStream::OnEvents(std::vector<ChangeEvent> events) {
  std::optional<ChangePosition> until;
  StreamRecord next;
  {
    absl::MutexLock lock(&mu_);
    auto go = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !paused_ || stopping_; };
    mu_.Await(absl::Condition(&go));
    if (stopping_) return false;
    applying_ = true;
    until = until_;
    next = record_;
  }
  auto fail = [&](absl::Status s) {
    apply_error_ = std::move(s);
    absl::MutexLock lock(&mu_);
    applying_ = false;
    return false;
  };
  std::vector<const ChangeEvent*> apply;
  bool reached = false;  // an event past `until` came: everything up to it is here
  int64_t newest_ts = 0;
  for (const ChangeEvent& e : events) {
    if (until.has_value() && PositionAfter(e.position(), *until)) {
      reached = true;
      break;
    }
    *next.state.mutable_position() = e.position();
    if (e.commit_ts_us() > 0) newest_ts = e.commit_ts_us();
    if (e.op() != INSERT && e.op() != UPDATE && e.op() != DELETE) continue;
    if (engine::IsReservedName(e.table())) continue;
    const std::string key = absl::AsciiStrToLower(e.table());
    auto it = filters_.find(key);
    if (it == filters_.end()) {
      absl::StatusOr<TableFilter> f = FilterOf(e.table());
      if (!f.ok()) return fail(f.status());
      it = filters_.emplace(key, std::make_unique<RowFilter>(*f, config_.key_range)).first;
    }
    absl::StatusOr<EventVerdict> verdict = it->second->ForEvent(e);
    if (!verdict.ok()) {
      return fail(absl::Status(verdict.status().code(),
                               absl::StrCat("event at ", FormatChangePosition(e.position()), ": ",
                                            verdict.status().message())));
    }
    if (*verdict != EventVerdict::kDrop) apply.push_back(&e);
  }
  if (reached) *next.state.mutable_position() = *until;
  next.state.set_events_applied(next.state.events_applied() + static_cast<int64_t>(apply.size()));
  // Nothing to write: the position moves in memory, and is written at most
  // every kPersistEvery (re-reading events that change nothing is harmless).
  absl::Status s;
  if (apply.empty() && !until.has_value() && absl::Now() < last_persist_ + kPersistEvery) {
    absl::MutexLock lock(&mu_);
    record_ = next;
  } else {
    s = Commit(next, [&](engine::WriteTxn& txn) -> absl::Status {
    for (const ChangeEvent* e : apply) {
      absl::StatusOr<int64_t> n = ApplyEvent(txn, *e);
      if (!n.ok()) {
        return absl::Status(n.status().code(),
                            absl::StrCat("applying the ", ChangeOp_Name(e->op()), " of ",
                                         e->table(), " at ", FormatChangePosition(e->position()),
                                         ": ", n.status().message()));
      }
    }
    return absl::OkStatus();
  });
    if (s.ok()) last_persist_ = absl::Now();
  }
  if (!s.ok()) return fail(s);
  if (config_.events_applied != nullptr) config_.events_applied->Inc(apply.size());
  absl::MutexLock lock(&mu_);
  applying_ = false;
  if (newest_ts > 0) {
    last_commit_ts_us_ = newest_ts;
    if (config_.lag_seconds != nullptr) {
      config_.lag_seconds->Set(
          std::max<double>(0, (absl::ToUnixMicros(absl::Now()) - newest_ts) / 1e6));
    }
  }
  if (until.has_value() && until_.has_value() &&
      (reached || SamePosition(record_.state.position(), *until))) {
    paused_ = true;
    until_.reset();
  }
  // The events after `until` were not applied: end this subscription, and
  // subscribe again from `until` (once resumed).
  if (reached) return false;
  return !stopping_;
}

StreamState FilteredStream::StateLocked() const {
  StreamState s = record_.state;
  if (s.phase() == RUNNING && paused_) s.set_phase(PAUSED);
  if (failing_) {
    s.set_phase(ERROR);
    s.set_last_error(error_);
  }
  s.set_lag_ms(-1);
  if (record_.state.phase() == RUNNING && last_commit_ts_us_ > 0) {
    s.set_lag_ms(std::max<int64_t>(
        0, (absl::ToUnixMicros(absl::Now()) - last_commit_ts_us_) / 1000));
  }
  return s;
}

StreamState FilteredStream::State() const {
  absl::MutexLock lock(&mu_);
  return StateLocked();
}

absl::StatusOr<StreamState> FilteredStream::WaitForPosition(const ChangePosition& position,
                                                            absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (loaded_ && record_.state.phase() == RUNNING &&
                         !PositionAfter(position, record_.state.position()));
  };
  const bool ok = mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  if (stopping_) {
    return absl::UnavailableError(absl::StrCat(Describe(config_.source), " stopped"));
  }
  if (!ok) {
    return absl::DeadlineExceededError(absl::StrCat(
        Describe(config_.source), " has applied up to ",
        FormatChangePosition(record_.state.position()), " (",
        StreamPhase_Name(StateLocked().phase()), "), not yet ", FormatChangePosition(position),
        error_.empty() ? "" : absl::StrCat("; last error: ", error_)));
  }
  return StateLocked();
}

absl::StatusOr<StreamState> FilteredStream::Pause() {
  absl::MutexLock lock(&mu_);
  if (!loaded_ || record_.state.phase() != RUNNING) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(config_.source), " is still copying"));
  }
  paused_ = true;
  until_.reset();
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !applying_ || stopping_; };
  mu_.Await(absl::Condition(&idle));
  return StateLocked();
}

absl::StatusOr<StreamState> FilteredStream::ResumeUntil(const ChangePosition& until,
                                                        absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (!loaded_ || record_.state.phase() != RUNNING) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(config_.source), " is still copying"));
  }
  if (until.row() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("ResumeUntil ", FormatChangePosition(until),
                                                   ": not an entry boundary (row must be 0)"));
  }
  const bool was_paused = paused_;
  paused_ = true;
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !applying_ || stopping_; };
  mu_.Await(absl::Condition(&idle));
  if (PositionAfter(record_.state.position(), until)) {
    paused_ = was_paused;
    return absl::FailedPreconditionError(absl::StrCat(
        Describe(config_.source), " has already applied ",
        FormatChangePosition(record_.state.position()), ", past ", FormatChangePosition(until)));
  }
  if (SamePosition(record_.state.position(), until)) return StateLocked();
  until_ = until;
  paused_ = false;
  auto reached = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (paused_ && !until_.has_value());
  };
  const bool ok = mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
  if (stopping_) {
    return absl::UnavailableError(absl::StrCat(Describe(config_.source), " stopped"));
  }
  if (!ok) {
    until_.reset();
    paused_ = true;
    // Wait out a batch in flight: it was cut at `until` anyway.
    mu_.Await(absl::Condition(&idle));
    return absl::DeadlineExceededError(absl::StrCat(
        Describe(config_.source), " reached only ", FormatChangePosition(record_.state.position()),
        " of ", FormatChangePosition(until), " by the deadline; it stays paused there",
        error_.empty() ? "" : absl::StrCat(" (last error: ", error_, ")")));
  }
  return StateLocked();
}

void FilteredStream::Resume() {
  absl::MutexLock lock(&mu_);
  paused_ = false;
  until_.reset();
}

}  // namespace shale::tablet::reshard
