#include "ctld/ctld_services.h"

namespace shale::ctld {

std::vector<std::unique_ptr<grpc::Service>> RegisterCtldServices(grpc::ServerBuilder& builder,
                                                                 const CtldContext& ctx) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  // Each service: services.push_back(std::make_unique<FooService>(ctx));
  //               builder.RegisterService(services.back().get());
  (void)builder;
  (void)ctx;
  return services;
}

}  // namespace shale::ctld
