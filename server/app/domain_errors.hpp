#pragma once
// The one place where domain failures become HTTP answers: StoreUnavailable → 503
// store_unavailable (with Retry-After, so Stream and clients retry), StreamError → its mapped
// upstream answer (502/503/504 upstream_unavailable, 4xx upstream_rejected). Placed inside
// error_envelope, which turns the HttpError into the JSON envelope.
#include "http/pipeline.hpp"

namespace streamgate::server {

http::Middleware domain_errors();

}  // namespace streamgate::server
