#pragma once
// The PostgreSQL backend of the store (several replicas share one database).
#include <memory>
#include <string>

#include "server/store/store.hpp"

namespace streamgate::server {

// Connects the pool and runs the migrations; throws StoreUnavailable when it cannot.
std::unique_ptr<Store> open_postgres_store(const StoreOptions& options, const std::string& url);

}  // namespace streamgate::server
