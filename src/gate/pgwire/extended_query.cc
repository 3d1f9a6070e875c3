// QueryProcessor: the extended query protocol (Parse, Bind, Describe,
// Execute, Close, Sync). Loop, simple queries and COPY: query_processor.cc.

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/pgwire/params.h"
#include "gate/pgwire/query_processor.h"
#include "gate/pgwire/row_encoder.h"
#include "gate/pgwire/types.h"

namespace shale::gate::pgwire {
namespace {

constexpr absl::string_view kInvalidStatementName = "26000";  // invalid_sql_statement_name
constexpr absl::string_view kInvalidCursorName = "34000";     // invalid_cursor_name
constexpr absl::string_view kDuplicateStatement = "42P05";    // duplicate_prepared_statement
constexpr absl::string_view kDuplicateCursor = "42P03";       // duplicate_cursor

absl::Status NoSuchStatement(absl::string_view name) {
  return SqlError(absl::StatusCode::kNotFound, kInvalidStatementName,
                  name.empty() ? "unnamed prepared statement does not exist"
                               : absl::StrCat("prepared statement \"", name, "\" does not exist"));
}

absl::Status NoSuchPortal(absl::string_view name) {
  return SqlError(absl::StatusCode::kNotFound, kInvalidCursorName,
                  name.empty() ? "unnamed portal does not exist"
                               : absl::StrCat("portal \"", name, "\" does not exist"));
}

}  // namespace

absl::Status QueryProcessor::HandleParse(const ParseMessage& m) {
  if (!m.name.empty() && statements_.contains(m.name)) {
    SendError(SqlError(absl::StatusCode::kAlreadyExists, kDuplicateStatement,
                       absl::StrCat("prepared statement \"", m.name, "\" already exists")));
    return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<const Statement>> stmt = session_->Prepare(m.query, m.param_oids);
  if (!stmt.ok()) {
    SendError(stmt.status());
    return absl::OkStatus();
  }
  Prepared prepared;
  prepared.stmt = *std::move(stmt);
  prepared.param_oids = m.param_oids;
  size_t used = prepared.stmt == nullptr ? 0 : static_cast<size_t>(prepared.stmt->num_params());
  prepared.param_oids.resize(std::max(used, m.param_oids.size()), oid::kUnspecified);
  statements_.insert_or_assign(std::string(m.name), std::move(prepared));
  EncodeParseComplete(&stream_->out());
  return absl::OkStatus();
}

absl::Status QueryProcessor::HandleBind(const BindMessage& m) {
  auto it = statements_.find(m.statement);
  if (it == statements_.end()) {
    SendError(NoSuchStatement(m.statement));
    return absl::OkStatus();
  }
  const Prepared& prepared = it->second;
  absl::StatusOr<std::vector<tablet::Value>> params = DecodeBindParams(
      m, static_cast<int>(prepared.param_oids.size()), prepared.param_oids);
  if (!params.ok()) {
    SendError(params.status());
    return absl::OkStatus();
  }
  for (int16_t format : m.result_formats) {
    if (format != 0 && format != 1) {
      SendError(ProtocolError(absl::StrCat("unsupported format code: ", format)));
      return absl::OkStatus();
    }
  }
  if (!m.portal.empty() && portals_.contains(m.portal)) {
    SendError(SqlError(absl::StatusCode::kAlreadyExists, kDuplicateCursor,
                       absl::StrCat("portal \"", m.portal, "\" already exists")));
    return absl::OkStatus();
  }
  if (m.portal.empty()) {
    DropPortals([](const std::string& name, const Portal&) { return name.empty(); });
  }
  Portal portal;
  portal.statement_name = std::string(m.statement);
  portal.stmt = prepared.stmt;
  portal.params = *std::move(params);
  // Parameters declared in Parse but not used by the statement are dropped.
  if (portal.stmt != nullptr) portal.params.resize(portal.stmt->num_params());
  portal.result_formats = m.result_formats;
  portals_.insert_or_assign(std::string(m.portal), std::move(portal));
  EncodeBindComplete(&stream_->out());
  return absl::OkStatus();
}

absl::Status QueryProcessor::HandleDescribe(const DescribeMessage& m) {
  if (m.kind == 'S') {
    auto it = statements_.find(m.name);
    if (it == statements_.end()) {
      SendError(NoSuchStatement(m.name));
      return absl::OkStatus();
    }
    std::vector<uint32_t> oids = it->second.param_oids;
    for (uint32_t& o : oids) {
      if (o == oid::kUnspecified) o = oid::kText;
    }
    EncodeParameterDescription(oids, &stream_->out());
    const std::vector<tablet::Field>* columns =
        it->second.stmt == nullptr ? nullptr : it->second.stmt->columns();
    if (columns != nullptr && !columns->empty()) {
      EncodeRowDescription(DescribeFields(*columns), &stream_->out());
    } else {
      EncodeNoData(&stream_->out());
    }
    return absl::OkStatus();
  }
  auto it = portals_.find(m.name);
  if (it == portals_.end()) {
    SendError(NoSuchPortal(m.name));
    return absl::OkStatus();
  }
  Portal& portal = it->second;
  if (portal.stmt == nullptr) {
    EncodeNoData(&stream_->out());
    return absl::OkStatus();
  }
  // The portal runs now so that its RowDescription is exact.
  if (absl::Status status = EnsureExecuted(&portal, /*describing=*/true); !status.ok()) {
    portals_.erase(it);
    SendError(status);
    return absl::OkStatus();
  }
  if (portal.result.returns_rows) {
    EncodeRowDescription(portal.columns, &stream_->out());
  } else {
    EncodeNoData(&stream_->out());
  }
  return absl::OkStatus();
}

absl::Status QueryProcessor::EnsureExecuted(Portal* portal, bool describing) {
  if (portal->executed) return absl::OkStatus();
  ASSIGN_OR_RETURN(Result result, Execute(*portal->stmt, portal->params));
  if (result.returns_rows) {
    ASSIGN_OR_RETURN(portal->columns, DescribeResult(result.data, portal->result_formats));
    const std::vector<tablet::Field>* declared = portal->stmt->columns();
    if (!describing && declared != nullptr) UseDeclaredTypes(*declared, &portal->columns);
  }
  portal->result = std::move(result);
  portal->executed = true;
  return absl::OkStatus();
}

absl::Status QueryProcessor::HandleExecute(const ExecuteMessage& m) {
  auto it = portals_.find(m.portal);
  if (it == portals_.end()) {
    SendError(NoSuchPortal(m.portal));
    return absl::OkStatus();
  }
  Portal& portal = it->second;
  if (portal.stmt == nullptr) {
    EncodeEmptyQueryResponse(&stream_->out());
    return absl::OkStatus();
  }
  if (absl::Status status = EnsureExecuted(&portal, /*describing=*/false); !status.ok()) {
    portals_.erase(it);
    SendError(status);
    return absl::OkStatus();
  }
  Result& result = portal.result;
  if (result.copy_in.has_value()) {
    absl::StatusOr<std::string> tag;
    RETURN_IF_ERROR(RunCopyIn(*result.copy_in, &tag));
    result.copy_in.reset();  // a second Execute does not copy again
    if (!tag.ok()) {
      portals_.erase(it);
      SendError(tag.status());
      return absl::OkStatus();
    }
    result.command_tag = *tag;
  } else if (result.returns_rows) {
    ASSIGN_OR_RETURN(bool ok, SendRows(result, portal.columns, /*describe=*/false, m.max_rows,
                                       &portal.next_row));
    if (!ok) {
      portals_.erase(it);
      return absl::OkStatus();
    }
    if (portal.next_row < result.data.rows_size()) {
      EncodePortalSuspended(&stream_->out());
      return absl::OkStatus();
    }
  }
  EncodeCommandComplete(result.command_tag, &stream_->out());
  return absl::OkStatus();
}

absl::Status QueryProcessor::HandleClose(const CloseMessage& m) {
  if (m.kind == 'S') {
    statements_.erase(m.name);
    // Closing a statement closes the portals made from it.
    DropPortals([&m](const std::string&, const Portal& portal) {
      return portal.statement_name == m.name;
    });
  } else {
    DropPortals([&m](const std::string& name, const Portal&) { return name == m.name; });
  }
  EncodeCloseComplete(&stream_->out());
  return absl::OkStatus();
}

void QueryProcessor::DropPortals(
    absl::FunctionRef<bool(const std::string& name, const Portal& portal)> which) {
  for (auto it = portals_.begin(); it != portals_.end();) {
    if (!which(it->first, it->second)) {
      ++it;
      continue;
    }
    if (it->second.executed && it->second.result.copy_in.has_value()) {
      session_->CopyFail("the portal was closed before its COPY ran");
    }
    portals_.erase(it++);
  }
}

absl::Status QueryProcessor::HandleSync() {
  ignore_till_sync_ = false;
  // Portals live until their transaction ends.
  if (session_->txn_status() == TxnStatus::kIdle) {
    DropPortals([](const std::string&, const Portal&) { return true; });
  }
  EncodeReadyForQuery(static_cast<char>(session_->txn_status()), &stream_->out());
  // With more requests already here (pipelining), answer them in one write.
  if (stream_->HasBufferedMessage()) return absl::OkStatus();
  return stream_->Flush();
}

}  // namespace shale::gate::pgwire
