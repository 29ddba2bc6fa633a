#include <boost/test/unit_test.hpp>

#include <boost/url/parse.hpp>

#include "http/router.hpp"

using namespace streamgate::http;

namespace {

Handler named(std::string) {
  return [](Request&, Context&) -> Task<Response> { co_return Response{}; };
}

Router table() {
  Router r;
  r.add(Method::post, "/api/v1/stream/token", named("token"));
  r.add(Method::post, "/api/v1/calls", named("create"));
  r.add(Method::get, "/api/v1/calls/{callId}", named("get"));
  r.add(Method::post, "/api/v1/calls/{callId}/participants", named("participants"), {1024, {}});
  r.add(Method::post, "/api/v1/calls/{callId}/end", named("end"));
  r.add(Method::get, "/healthz", named("healthz"));
  return r;
}

std::vector<std::string> segs(std::string_view target) {
  std::vector<std::string> s;
  std::string_view path, query;
  BOOST_REQUIRE(split_target(target, s, path, query));
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router)

BOOST_AUTO_TEST_CASE(matches_patterns_and_records_them) {
  const Router r = table();
  struct Case {
    Method method;
    const char* target;
    RouteMatch::Kind kind;
    const char* pattern;
    const char* allow;
  };
  const Case cases[] = {
      {Method::post, "/api/v1/stream/token", RouteMatch::Kind::found, "/api/v1/stream/token", ""},
      {Method::get, "/api/v1/stream/token", RouteMatch::Kind::method_not_allowed, "", "POST"},
      {Method::get, "/api/v1/calls/abc", RouteMatch::Kind::found, "/api/v1/calls/{callId}", ""},
      {Method::head, "/api/v1/calls/abc", RouteMatch::Kind::found, "/api/v1/calls/{callId}", ""},
      {Method::del, "/api/v1/calls/abc", RouteMatch::Kind::method_not_allowed, "", "GET, HEAD"},
      {Method::post, "/api/v1/calls/abc/end", RouteMatch::Kind::found, "/api/v1/calls/{callId}/end",
       ""},
      {Method::post, "/api/v1/calls", RouteMatch::Kind::found, "/api/v1/calls", ""},
      {Method::get, "/api/v1/calls", RouteMatch::Kind::method_not_allowed, "", "POST"},
      {Method::get, "/api/v1/calls/", RouteMatch::Kind::not_found, "", ""},
      {Method::get, "/api/v1/calls/abc/extra/more", RouteMatch::Kind::not_found, "", ""},
      {Method::get, "/nope", RouteMatch::Kind::not_found, "", ""},
      {Method::get, "/", RouteMatch::Kind::not_found, "", ""},
      {Method::get, "/healthz?x=1", RouteMatch::Kind::found, "/healthz", ""},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(to_string(c.method) << " " << c.target) {
      const auto m = r.match(c.method, segs(c.target));
      BOOST_TEST((m.kind == c.kind));
      if (c.kind == RouteMatch::Kind::found) BOOST_TEST(m.route->pattern == c.pattern);
      if (c.kind == RouteMatch::Kind::method_not_allowed) BOOST_TEST(m.allow == c.allow);
    }
  }
}

BOOST_AUTO_TEST_CASE(path_parameters_are_percent_decoded) {
  const Router r = table();
  const auto m = r.match(Method::get, segs("/api/v1/calls/a%2Fb%20c"));
  BOOST_TEST_REQUIRE((m.kind == RouteMatch::Kind::found));
  BOOST_TEST_REQUIRE(m.params.size() == 1u);
  BOOST_TEST(m.params[0].first == "callId");
  BOOST_TEST(m.params[0].second == "a/b c");  // one segment: validation happens in the handler
}

BOOST_AUTO_TEST_CASE(options_lists_allowed_methods) {
  const auto m = table().match(Method::options, segs("/api/v1/calls/x"));
  BOOST_TEST((m.kind == RouteMatch::Kind::method_not_allowed));
  BOOST_TEST(m.allow == "GET, HEAD");
}

BOOST_AUTO_TEST_CASE(body_limit_is_the_largest_route_limit) {
  Router r;
  r.add(Method::post, "/a", named("a"), {1000, {}});
  r.add(Method::post, "/b", named("b"), {5000, {}});
  BOOST_TEST(r.max_body_limit() == 5000u);
}

BOOST_AUTO_TEST_CASE(rejects_bad_patterns_and_duplicates) {
  Router r;
  r.add(Method::get, "/x/{id}", named("x"));
  BOOST_CHECK_THROW(r.add(Method::get, "/x/{other}", named("y")), std::invalid_argument);
  BOOST_CHECK_THROW(r.add(Method::get, "no-slash", named("z")), std::invalid_argument);
  r.add(Method::post, "/x/{id}", named("post is distinct"));
}

BOOST_AUTO_TEST_CASE(split_target_refuses_non_origin_form) {
  std::vector<std::string> s;
  std::string_view path, query;
  BOOST_TEST(!split_target("http://evil/x", s, path, query));
  BOOST_TEST(!split_target("*", s, path, query));
  BOOST_TEST(!split_target("/a b", s, path, query));
  BOOST_TEST(split_target("/a/b?c=d", s, path, query));
  BOOST_TEST(path == "/a/b");
  BOOST_TEST(query == "c=d");
}

BOOST_AUTO_TEST_CASE(split_target_splits_as_boost_url_does) {
  // Every target of up to six characters after the first slash, from an alphabet with the
  // characters the plain-path shortcut takes, the dot it takes only inside a segment, and some
  // it leaves to Boost.URL: split_target agrees with parse_origin_form on each it accepts.
  const std::string alphabet = "/a.-~Z0%?";
  std::vector<std::string> targets = {"/"};
  for (std::size_t len = 1; len <= 6; ++len) {
    const std::size_t before = targets.size();
    for (std::size_t i = 0; i < before; ++i)
      if (targets[i].size() == len)
        for (char c : alphabet) targets.push_back(targets[i] + c);
  }
  std::size_t compared = 0;
  for (const auto& t : targets) {
    std::vector<std::string> s;
    std::string_view path, query;
    const bool ours = split_target(t, s, path, query);
    const auto theirs =
        boost::urls::parse_origin_form(boost::core::string_view(t.data(), t.size()));
    BOOST_TEST_CONTEXT(t) {
      BOOST_TEST_REQUIRE(ours == theirs.has_value());
      if (!ours) continue;
      std::vector<std::string> expected;
      for (auto seg : theirs->segments()) expected.emplace_back(seg);
      if (expected.empty()) expected.emplace_back();
      BOOST_TEST(s == expected, boost::test_tools::per_element());
      BOOST_TEST(path == std::string_view(theirs->encoded_path()));
      BOOST_TEST(query == std::string_view(theirs->encoded_query()));
      ++compared;
    }
  }
  BOOST_TEST(compared > 100000u);
}

BOOST_AUTO_TEST_SUITE_END()
