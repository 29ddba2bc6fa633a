#pragma once
// Calls streamgate's app routes with an app JWT, against the fake Stream, for the calls suites.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_stream.hpp"

namespace streamgate::test {

inline std::map<std::string, std::string> against(const FakeStream& fake,
                                                  std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env{{"STREAM_BASE_URL", fake.base_url()},
                                         {"STREAM_CA_FILE", test_pki().ca_cert}};
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

inline HttpResponse api(std::uint16_t port, const std::string& method, const std::string& path,
                        const std::string& jwt, const std::string& body = "") {
  return http_request(port, method, path,
                      {{"Authorization", "Bearer " + jwt}, {"Content-Type", "application/json"}},
                      body);
}

inline std::string admin() { return app_jwt("ops", {{"roles", boost::json::array{"admin"}}}); }

inline void expect_error(const HttpResponse& r, int status, const std::string& code) {
  BOOST_TEST(r.status == status, "status " << r.status << " body " << r.body);
  BOOST_TEST(r.json().at("error").at("code").as_string() == code, r.body);
}

}  // namespace streamgate::test
