#include "http/types.hpp"

#include <boost/url/decode_view.hpp>
#include <boost/url/parse_query.hpp>

namespace streamgate::http {

Method parse_method(std::string_view n) {
  if (n == "GET") return Method::get;
  if (n == "POST") return Method::post;
  if (n == "HEAD") return Method::head;
  if (n == "OPTIONS") return Method::options;
  if (n == "PUT") return Method::put;
  if (n == "PATCH") return Method::patch;
  if (n == "DELETE") return Method::del;
  return Method::other;
}

std::string_view to_string(Method m) {
  switch (m) {
    case Method::get: return "GET";
    case Method::head: return "HEAD";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::patch: return "PATCH";
    case Method::del: return "DELETE";
    case Method::options: return "OPTIONS";
    case Method::other: break;
  }
  return "OTHER";
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  if (query.empty()) return std::nullopt;
  // Boost.URL 1.81's parse_query reads up to a NUL past the view (strlen), and the request
  // target lives in a buffer that has none: parse a terminated copy.
  const std::string terminated(query);
  auto parsed =
      boost::urls::parse_query(boost::core::string_view(terminated.data(), terminated.size()));
  if (!parsed) return std::nullopt;
  for (const auto& p : *parsed) {
    if (p.key.decode() == name) {
      if (!p.has_value) return std::string();
      return p.value.decode();
    }
  }
  return std::nullopt;
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  if (headers.empty()) headers.reserve(8);  // one allocation for a usual answer's headers
  headers.emplace_back(std::move(name), std::move(value));
}

std::string_view Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

bool Principal::has_role(std::string_view role) const {
  for (const auto& r : roles)
    if (r == role) return true;
  return false;
}

std::string_view Context::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

}  // namespace streamgate::http
