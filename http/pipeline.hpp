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
  // Not itself a coroutine: the frame gets a copy of this Next, so a temporary Next is fine.
  Task<Response> operator()(Request& req, Context& ctx) const;

 private:
  static Task<Response> invoke(Next self, Request& req, Context& ctx);
  const std::vector<Middleware>* chain_;
  std::size_t index_;
  const Handler* terminal_;
};

// Runs chain[0] → chain[1] → … → terminal.
Task<Response> run_chain(const std::vector<Middleware>& chain, const Handler& terminal,
                         Request& req, Context& ctx);

}  // namespace streamgate::http
