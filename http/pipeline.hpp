#pragma once
// The onion-model middleware chain: code before `co_await next(...)` pre-processes, code after
// it post-processes; a guard either short-circuits (returns or throws) or passes on.
#include <functional>
#include <vector>

#include "http/task.hpp"
#include "http/types.hpp"

namespace streamgate::http {

using Handler = std::function<Task<Response>(Request&, Context&)>;

class Next;
using Middleware = std::function<Task<Response>(Request&, Context&, Next)>;

// Calls the rest of a chain: the next middleware, or the terminal handler after the last one.
class Next final {
 public:
  Next(const std::vector<Middleware>& chain, std::size_t index, const Handler& terminal)
      : chain_(&chain), index_(index), terminal_(&terminal) {}
  // Not itself a coroutine: it returns the next middleware's (or the terminal's) own awaitable,
  // so a level of the chain costs one coroutine frame, not two. That frame gets a copy of the
  // following Next, so a temporary Next is fine; the middleware and handler objects live in the
  // chain and the route, which outlive every request.
  Task<Response> operator()(Request& req, Context& ctx) const;

 private:
  const std::vector<Middleware>* chain_;
  std::size_t index_;
  const Handler* terminal_;
};

// Runs chain[0] → chain[1] → … → terminal.
Task<Response> run_chain(const std::vector<Middleware>& chain, const Handler& terminal,
                         Request& req, Context& ctx);

}  // namespace streamgate::http
