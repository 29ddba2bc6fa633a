#include "http/pipeline.hpp"

namespace streamgate::http {

Task<Response> Next::operator()(Request& req, Context& ctx) const {
  return invoke(*this, req, ctx);
}

Task<Response> Next::invoke(Next self, Request& req, Context& ctx) {
  if (self.index_ < self.chain_->size())
    co_return co_await (*self.chain_)[self.index_](
        req, ctx, Next(*self.chain_, self.index_ + 1, *self.terminal_));
  co_return co_await (*self.terminal_)(req, ctx);
}

Task<Response> run_chain(const std::vector<Middleware>& chain, const Handler& terminal,
                         Request& req, Context& ctx) {
  return Next(chain, 0, terminal)(req, ctx);
}

}  // namespace streamgate::http
