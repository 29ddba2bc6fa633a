#pragma once
// The coroutine type of every asynchronous call in streamgate. Its own header, so that domain
// headers (the store, the clients) need not include the middleware chain to name it.
#include <boost/asio/awaitable.hpp>

namespace streamgate::http {

template <typename T>
using Task = boost::asio::awaitable<T>;

}  // namespace streamgate::http
