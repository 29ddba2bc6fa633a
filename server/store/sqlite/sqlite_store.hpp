#pragma once
// The SQLite backend of the store (the embedded default, one instance).
#include <memory>
#include <string>

#include "server/store/store.hpp"

namespace streamgate::server {

// Opens (creating) the file and runs the migrations; throws StoreUnavailable when it cannot.
std::unique_ptr<Store> open_sqlite_store(const StoreOptions& options, const std::string& path);

}  // namespace streamgate::server
