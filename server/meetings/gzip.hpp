#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace streamgate::server {

bool looks_gzipped(std::string_view body);  // starts with the magic 1f 8b

enum class GunzipError { none, too_large, corrupt };
// Inflates a gzip member, refusing to produce more than `limit` bytes (a zip bomb stops there).
GunzipError gunzip(std::string_view in, std::size_t limit, std::string& out);

}  // namespace streamgate::server
