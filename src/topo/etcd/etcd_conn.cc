#include "topo/etcd/etcd_conn.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "etcd/etcd_rpc.pb.h"
#include "topo/etcd/etcd_address.h"
#include "topo/etcd/etcd_lock.h"
#include "topo/etcd/etcd_watch.h"
#include "topo/path.h"

namespace shale::topo {

using etcd_internal::EtcdClient;
using etcd_internal::EtcdWatch;

namespace {

// A Txn that runs its success ops only if key exists at version `expected`,
// and otherwise reads key (for GuardFailure).
etcdserverpb::TxnRequest GuardedTxn(const std::string& key, Version expected) {
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* exists = txn.add_compare();
  exists->set_key(key);
  exists->set_target(etcdserverpb::Compare::VERSION);
  exists->set_result(etcdserverpb::Compare::GREATER);
  exists->set_version(0);
  etcdserverpb::Compare* same = txn.add_compare();
  same->set_key(key);
  same->set_target(etcdserverpb::Compare::MOD);
  same->set_result(etcdserverpb::Compare::EQUAL);
  same->set_mod_revision(expected);
  txn.add_failure()->mutable_request_range()->set_key(key);
  return txn;
}

// Why a GuardedTxn did not succeed: NotFound or Aborted.
absl::Status GuardFailure(const etcdserverpb::TxnResponse& response, absl::string_view path,
                          Version expected) {
  const etcdserverpb::RangeResponse& current = response.responses(0).response_range();
  if (current.kvs_size() == 0) return absl::NotFoundError(absl::StrCat("no node at ", path));
  return absl::AbortedError(absl::StrCat("version mismatch at ", path, ": expected ", expected,
                                         ", found ", current.kvs(0).mod_revision()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdConn>> EtcdConn::Open(absl::string_view address,
                                                         const ConnOptions& options,
                                                         const EtcdClientOptions& client_options) {
  ASSIGN_OR_RETURN(EtcdAddress parsed, ParseEtcdAddress(address));
  std::shared_ptr<EtcdClient> client =
      EtcdClient::Create(std::move(parsed.endpoints), client_options);
  // Fail early, with the endpoint in the message, if no server answers.
  etcdserverpb::RangeRequest probe;
  probe.set_key(absl::StrCat(parsed.root, "/"));
  probe.set_keys_only(true);
  probe.set_limit(1);
  auto answered = client->Range(probe);
  if (!answered.ok()) return answered.status();
  return std::unique_ptr<EtcdConn>(new EtcdConn(std::move(client), std::move(parsed.root), options));
}

EtcdConn::EtcdConn(std::shared_ptr<EtcdClient> client, std::string root, ConnOptions options)
    : client_(std::move(client)), keys_(std::move(root)), options_(options) {}

EtcdConn::~EtcdConn() = default;

absl::StatusOr<Version> EtcdConn::Create(absl::string_view path, absl::string_view value) {
  RETURN_IF_ERROR(ValidatePath(path));
  const std::string key = keys_.Key(path);
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* absent = txn.add_compare();
  absent->set_key(key);
  absent->set_target(etcdserverpb::Compare::CREATE);
  absent->set_result(etcdserverpb::Compare::EQUAL);
  absent->set_create_revision(0);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(std::string(value));
  ASSIGN_OR_RETURN(etcdserverpb::TxnResponse response, client_->Txn(txn));
  if (!response.succeeded()) {
    return absl::AlreadyExistsError(absl::StrCat("node ", path, " already exists"));
  }
  return response.header().revision();
}

absl::StatusOr<Versioned> EtcdConn::Get(absl::string_view path) {
  RETURN_IF_ERROR(ValidatePath(path));
  etcdserverpb::RangeRequest request;
  request.set_key(keys_.Key(path));
  ASSIGN_OR_RETURN(etcdserverpb::RangeResponse response, client_->Range(request));
  if (response.kvs_size() == 0) return absl::NotFoundError(absl::StrCat("no node at ", path));
  return Versioned{response.kvs(0).value(), response.kvs(0).mod_revision()};
}

absl::StatusOr<Version> EtcdConn::Update(absl::string_view path, absl::string_view value,
                                         std::optional<Version> expected) {
  RETURN_IF_ERROR(ValidatePath(path));
  const std::string key = keys_.Key(path);
  if (!expected.has_value()) {
    etcdserverpb::PutRequest put;
    put.set_key(key);
    put.set_value(std::string(value));
    ASSIGN_OR_RETURN(etcdserverpb::PutResponse response, client_->Put(put));
    return response.header().revision();
  }
  etcdserverpb::TxnRequest txn = GuardedTxn(key, *expected);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(std::string(value));
  ASSIGN_OR_RETURN(etcdserverpb::TxnResponse response, client_->Txn(txn));
  if (!response.succeeded()) return GuardFailure(response, path, *expected);
  return response.header().revision();
}

absl::Status EtcdConn::Delete(absl::string_view path, std::optional<Version> expected) {
  RETURN_IF_ERROR(ValidatePath(path));
  const std::string key = keys_.Key(path);
  if (!expected.has_value()) {
    etcdserverpb::DeleteRangeRequest request;
    request.set_key(key);
    ASSIGN_OR_RETURN(etcdserverpb::DeleteRangeResponse response, client_->DeleteRange(request));
    if (response.deleted() == 0) return absl::NotFoundError(absl::StrCat("no node at ", path));
    return absl::OkStatus();
  }
  etcdserverpb::TxnRequest txn = GuardedTxn(key, *expected);
  txn.add_success()->mutable_request_delete_range()->set_key(key);
  ASSIGN_OR_RETURN(etcdserverpb::TxnResponse response, client_->Txn(txn));
  if (!response.succeeded()) return GuardFailure(response, path, *expected);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DirEntry>> EtcdConn::ListDir(absl::string_view dir) {
  RETURN_IF_ERROR(ValidateDir(dir));
  auto [first, end] = keys_.DirRange(dir);
  etcdserverpb::RangeRequest request;
  request.set_key(first);
  request.set_range_end(end);
  request.set_keys_only(true);
  ASSIGN_OR_RETURN(etcdserverpb::RangeResponse response, client_->Range(request));
  std::map<std::string, DirEntry> children;
  for (const mvccpb::KeyValue& kv : response.kvs()) {
    absl::string_view rest = absl::string_view(kv.key()).substr(first.size());
    const size_t slash = rest.find('/');
    const std::string name(rest.substr(0, slash));
    DirEntry& entry = children[name];
    entry.name = name;
    if (slash == absl::string_view::npos) {
      entry.has_value = true;
    } else {
      entry.has_children = true;
    }
  }
  if (children.empty()) return absl::NotFoundError(absl::StrCat("nothing stored below ", dir));
  std::vector<DirEntry> entries;
  entries.reserve(children.size());
  for (auto& [name, entry] : children) entries.push_back(std::move(entry));
  return entries;
}

absl::StatusOr<std::unique_ptr<LockHandle>> EtcdConn::Lock(absl::string_view dir,
                                                           absl::string_view contents,
                                                           absl::Duration timeout) {
  RETURN_IF_ERROR(ValidateDir(dir));
  return etcd_internal::AcquireEtcdLock(client_, std::string(dir), keys_.LockKey(dir), contents,
                                        options_.lock_ttl, timeout);
}

absl::StatusOr<WatchStart> EtcdConn::Watch(absl::string_view path, WatchCallback cb) {
  RETURN_IF_ERROR(ValidatePath(path));
  EtcdWatch::Target target{std::string(path), keys_.Key(path), ""};
  etcdserverpb::RangeRequest request;
  request.set_key(target.key);
  ASSIGN_OR_RETURN(etcdserverpb::RangeResponse current, client_->Range(request));
  if (current.kvs_size() == 0) return absl::NotFoundError(absl::StrCat("no node at ", path));
  WatchStart start;
  start.current = Versioned{current.kvs(0).value(), current.kvs(0).mod_revision()};
  start.handle = std::make_unique<EtcdWatch>(client_, keys_, std::move(target), current,
                                             std::move(cb));
  return start;
}

absl::StatusOr<DirWatchStart> EtcdConn::WatchDir(absl::string_view dir, WatchCallback cb) {
  RETURN_IF_ERROR(ValidateDir(dir));
  auto [first, end] = keys_.DirRange(dir);
  EtcdWatch::Target target{std::string(dir), std::move(first), std::move(end)};
  etcdserverpb::RangeRequest request;
  request.set_key(target.key);
  request.set_range_end(target.range_end);
  ASSIGN_OR_RETURN(etcdserverpb::RangeResponse current, client_->Range(request));
  DirWatchStart start;
  for (const mvccpb::KeyValue& kv : current.kvs()) {  // etcd returns keys in byte order
    start.current.push_back(PathValue{keys_.PathOf(kv.key()), kv.value(), kv.mod_revision()});
  }
  start.handle = std::make_unique<EtcdWatch>(client_, keys_, std::move(target), current,
                                             std::move(cb));
  return start;
}

}  // namespace shale::topo
