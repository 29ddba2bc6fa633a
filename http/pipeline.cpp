#include "http/pipeline.hpp"

namespace streamgate::http {

Task<Response> Next::operator()(Request& req, Context& ctx) const {
  if (index_ < chain_->size())
    return (*chain_)[index_](req, ctx, Next(*chain_, index_ + 1, *terminal_));
  return (*terminal_)(req, ctx);
}

Task<Response> run_chain(const std::vector<Middleware>& chain, const Handler& terminal,
                         Request& req, Context& ctx) {
  return Next(chain, 0, terminal)(req, ctx);
}

}  // namespace streamgate::http
