#pragma once
// A Store that times every call into the store-latency histogram of Metrics.
#include <memory>

#include "server/ops/metrics.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

std::shared_ptr<Store> instrument(std::shared_ptr<Store> store, std::shared_ptr<Metrics> metrics);

}  // namespace streamgate::server
