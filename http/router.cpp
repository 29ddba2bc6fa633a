#include "http/router.hpp"

#include <boost/url/parse.hpp>

#include <stdexcept>

namespace streamgate::http {
namespace {

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

bool path_matches(const Route& r, const std::vector<std::string>& segs,
                  std::vector<std::pair<std::string_view, std::string>>* params) {
  if (r.segments.size() != segs.size()) return false;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string& p = r.segments[i];
    if (is_param(p)) {
      if (segs[i].empty()) return false;
    } else if (p != segs[i]) {
      return false;
    }
  }
  if (params != nullptr) {
    for (std::size_t i = 0; i < segs.size(); ++i) {
      const std::string& p = r.segments[i];
      if (is_param(p)) params->emplace_back(std::string_view(p).substr(1, p.size() - 2), segs[i]);
    }
  }
  return true;
}

void append_method(std::string& allow, std::string_view m) {
  if (allow.find(m) != std::string::npos) return;
  if (!allow.empty()) allow += ", ";
  allow += m;
}

}  // namespace

void Router::add(Method method, std::string pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  Route r;
  r.method = method;
  std::string_view rest = std::string_view(pattern).substr(1);
  while (true) {
    const auto slash = rest.find('/');
    r.segments.emplace_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  // Two patterns that differ only in parameter names match the same paths.
  const auto same_shape = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (is_param(a[i]) ? !is_param(b[i]) : a[i] != b[i]) return false;
    return true;
  };
  for (const auto& existing : routes_)
    if (existing.method == method && same_shape(existing.segments, r.segments))
      throw std::invalid_argument("duplicate route: " + pattern);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  r.options = std::move(options);
  if (r.options.body_limit > max_body_limit_) max_body_limit_ = r.options.body_limit;
  routes_.push_back(std::move(r));
}

RouteMatch Router::match(Method method, const std::vector<std::string>& segs) const {
  RouteMatch m;
  const Method wanted = method == Method::head ? Method::get : method;
  for (const auto& r : routes_) {
    if (r.method == wanted && path_matches(r, segs, &m.params)) {
      m.kind = RouteMatch::Kind::found;
      m.route = &r;
      break;
    }
  }
  // The Allow list is wanted for 405s and preflights; compute it only then.
  if (m.kind != RouteMatch::Kind::found || method == Method::options) {
    for (const auto& r : routes_) {
      if (!path_matches(r, segs, nullptr)) continue;
      append_method(m.allow, to_string(r.method));
      if (r.method == Method::get) append_method(m.allow, "HEAD");
    }
    if (m.kind != RouteMatch::Kind::found && !m.allow.empty())
      m.kind = RouteMatch::Kind::method_not_allowed;
  }
  return m;
}

namespace {

// An origin-form target with nothing to decode or normalise: a path of unreserved characters
// and slashes, no query, no dot segment. Boost.URL splits it exactly as the loop below does.
bool plain_path(std::string_view t) {
  if (t.empty() || t.front() != '/') return false;
  char prev = 0;
  for (const char c : t) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '~' || c == '/' || (c == '.' && prev != '/');
    if (!ok) return false;
    prev = c;
  }
  return true;
}

}  // namespace

bool split_target(std::string_view target, std::vector<std::string>& segments,
                  std::string_view& path, std::string_view& query) {
  if (plain_path(target)) {
    // The common case, without a parse: one segment per slash-separated run after the first.
    path = target;
    query = {};
    segments.clear();
    std::string_view rest = target.substr(1);
    for (;;) {
      const auto slash = rest.find('/');
      segments.emplace_back(rest.substr(0, slash));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    return true;
  }
  // Explicit length: a std::string_view converted implicitly goes through strlen.
  auto parsed =
      boost::urls::parse_origin_form(boost::core::string_view(target.data(), target.size()));
  if (!parsed) return false;
  const auto& u = *parsed;
  path = u.encoded_path();
  query = u.encoded_query();
  segments.clear();
  for (auto seg : u.segments()) segments.push_back(std::string(seg));
  // parse_origin_form keeps "/a/b/" as segments {"a","b",""}; that stays distinct from "/a/b".
  if (segments.empty()) segments.emplace_back();
  return true;
}

}  // namespace streamgate::http
