#include "server/ops/health.hpp"

#include <boost/json/object.hpp>

#include "http/json_response.hpp"

namespace streamgate::server {

http::Handler make_healthz_handler() {
  return [](http::Request&, http::Context&) -> http::Task<http::Response> {
    co_return http::json_success(200, boost::json::object{{"status", "ok"}}, "alive");
  };
}

http::Handler make_readyz_handler(std::shared_ptr<Store> store, std::function<bool()> draining,
                                  std::shared_ptr<Metrics> metrics) {
  return [store, draining, metrics](http::Request&, http::Context&) -> http::Task<http::Response> {
    const auto set_ready = [&](bool ready) {
      if (metrics) metrics->readiness(ready);
    };
    if (draining()) {
      set_ready(false);
      throw http::HttpError(503, "draining", "Server is shutting down");
    }
    const bool reachable = co_await store->ping();
    set_ready(reachable);
    if (!reachable) throw http::HttpError(503, "store_unavailable", "The store is not reachable");
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
