#include "server/ops/health.hpp"

#include <boost/json/object.hpp>

#include "http/json_response.hpp"

namespace streamgate::server {

http::Handler make_healthz_handler() {
  return [](http::Request&, http::Context&) -> http::Task<http::Response> {
    co_return http::json_success(200, boost::json::object{{"status", "ok"}}, "alive");
  };
}

http::Handler make_readyz_handler(std::shared_ptr<Store> store, std::function<bool()> draining) {
  return [store, draining](http::Request&, http::Context&) -> http::Task<http::Response> {
    if (draining()) throw http::HttpError(503, "draining", "Server is shutting down");
    if (!co_await store->ping())
      throw http::HttpError(503, "store_unavailable", "The store is not reachable");
    co_return http::json_success(
        200, boost::json::object{{"status", "ready"}, {"store", store->backend()}}, "ready");
  };
}

http::Handler make_metrics_handler(std::shared_ptr<Metrics> metrics,
                                   std::function<double()> open_connections) {
  return [metrics, open_connections](http::Request&, http::Context&) -> http::Task<http::Response> {
    http::Response res;
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = metrics->render(open_connections());
    co_return res;
  };
}

}  // namespace streamgate::server
