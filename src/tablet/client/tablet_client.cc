#include "tablet/client/tablet_client.h"

#include "absl/strings/str_cat.h"
#include "base/grpc_tls/credentials.h"
#include "base/status_macros.h"

namespace shale::tablet {

TabletClient::TabletClient(std::string address) : address_(std::move(address)) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc_tls::NewChannel(address_, args);  // TLS when the process set it up
  query_ = Query::NewStub(channel_);
  manager_ = TabletManager::NewStub(channel_);
  health_ = Health::NewStub(channel_);
  replication_ = Replication::NewStub(channel_);
  changes_ = Changes::NewStub(channel_);
  reshard_ = Reshard::NewStub(channel_);
}

std::unique_ptr<TabletClient> TabletClient::Connect(const std::string& address) {
  return std::unique_ptr<TabletClient>(new TabletClient(address));
}

absl::StatusOr<std::string> TabletClient::GrpcAddress(topo::Server& ts,
                                                      const topo::TabletAlias& alias) {
  ASSIGN_OR_RETURN(topo::TabletInfo info, ts.GetTablet(alias));
  auto it = info.record.port_map().find("grpc");
  if (it == info.record.port_map().end() || it->second <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("tablet ", alias.ToString(), " has no gRPC port in its record"));
  }
  const std::string host = info.record.hostname().empty() ? "localhost" : info.record.hostname();
  return absl::StrCat(host, ":", it->second);
}

absl::StatusOr<std::unique_ptr<TabletClient>> TabletClient::ForTablet(
    topo::Server& ts, const topo::TabletAlias& alias) {
  ASSIGN_OR_RETURN(std::string address, GrpcAddress(ts, alias));
  return Connect(address);
}

}  // namespace shale::tablet
