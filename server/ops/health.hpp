#pragma once
// The operational endpoints: liveness, readiness and the Prometheus scrape.
#include <functional>
#include <memory>

#include "http/pipeline.hpp"
#include "server/ops/metrics.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

// GET /healthz: the process answers.
http::Handler make_healthz_handler();
// GET /readyz: 503 `draining` once `draining()` says so, 503 `store_unavailable` when the store
// does not answer, else 200 with the store's backend.
// Each answer sets streamgate_ready (1 or 0) when `metrics` is given.
http::Handler make_readyz_handler(std::shared_ptr<Store> store, std::function<bool()> draining,
                                  std::shared_ptr<Metrics> metrics = nullptr);
// GET /metrics: the text exposition format; `open_connections()` is read at scrape time.
http::Handler make_metrics_handler(std::shared_ptr<Metrics> metrics,
                                   std::function<double()> open_connections);

}  // namespace streamgate::server
