// Picks the backend that DATABASE_URL names.
#include <stdexcept>

#include "server/store/postgres/postgres_store.hpp"
#include "server/store/sqlite/sqlite_store.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

std::unique_ptr<Store> open_store(const StoreOptions& options) {
  const std::string& url = options.database_url;
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);  // sqlite://PATH
    if (path.empty()) throw std::runtime_error("DATABASE_URL: sqlite: needs a file path");
    return open_sqlite_store(options, path);
  }
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0)
    return open_postgres_store(options, url);
  throw std::runtime_error("DATABASE_URL must start with sqlite: or postgres://");
}

}  // namespace streamgate::server
