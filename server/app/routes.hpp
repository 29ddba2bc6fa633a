#pragma once
// The whole route table in one place (routes.cpp), and the global middleware around it.
#include <functional>
#include <vector>

#include "http/pipeline.hpp"
#include "http/router.hpp"
#include "server/app/config.hpp"
#include "server/app/deps.hpp"

namespace streamgate::server {

struct RouteHooks {
  std::function<bool()> not_ready;           // /readyz answers 503 while true
  std::function<double()> open_connections;  // read at /metrics scrape time
};

// The public listener's routes (the API, webhooks, /healthz, /readyz).
http::Router make_routes(const Config& config, const Deps& deps, RouteHooks hooks);
// The metrics listener's only route: GET /metrics (METRICS_ADDRESS/METRICS_PORT).
http::Router make_metrics_routes(const Deps& deps, RouteHooks hooks);

// Outermost first: request id, metrics, access log, CORS, the error envelope, and inside it the
// mapping of domain failures (domain_errors.hpp).
std::vector<http::Middleware> global_middleware(const Config& config, const Deps& deps);

}  // namespace streamgate::server
