#include "ctld/ctld_services.h"

#include "ctld/meta_service.h"

namespace shale::ctld {

std::vector<std::unique_ptr<grpc::Service>> RegisterCtldServices(grpc::ServerBuilder& builder,
                                                                 const CtldContext& ctx) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<MetaService>(ctx));
  builder.RegisterService(services.back().get());
  return services;
}

}  // namespace shale::ctld
