#pragma once
#include <memory>
#include <string>

#include "server/store.hpp"

namespace streamgate::server {
std::unique_ptr<Store> open_sqlite_store(const StoreOptions& options, const std::string& path);
std::unique_ptr<Store> open_postgres_store(const StoreOptions& options, const std::string& url);
}  // namespace streamgate::server
