#pragma once
// Delivers signed webhooks to a running streamgate and reads meetings back, for the webhook
// and hardening suites.
#include <zlib.h>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "server/store/store.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/stream_events.hpp"

namespace streamgate::test {

inline const std::string kHook = "/api/webhook/stream";

inline HttpResponse post_hook(std::uint16_t port, const std::string& body, const std::string& id,
                              std::optional<std::string> signature = std::nullopt,
                              Headers extra = {}) {
  Headers h = {{"Content-Type", "application/json"}, {"X-Webhook-Attempt", "1"}};
  if (std::none_of(extra.begin(), extra.end(),
                   [](const auto& kv) { return kv.first == "X-Api-Key"; }))
    h.emplace_back("X-Api-Key", kStreamKey);
  if (!id.empty()) h.emplace_back("X-Webhook-Id", id);
  const std::string sig = signature.value_or(sign(kStreamSecret, body));
  if (!sig.empty()) h.emplace_back("X-Signature", sig);
  for (auto& e : extra) h.push_back(e);
  return http_request(port, "POST", kHook, h, body);
}

inline std::string admin_jwt() { return app_jwt("ops", {{"roles", boost::json::array{"admin"}}}); }

inline HttpResponse get_meeting(std::uint16_t port, const std::string& call_id,
                                const std::string& jwt) {
  return http_request(port, "GET", "/api/v1/calls/" + call_id,
                      {{"Authorization", "Bearer " + jwt}});
}

inline boost::json::object meeting_view(std::uint16_t port, const std::string& call_id) {
  const auto r = get_meeting(port, call_id, admin_jwt());
  BOOST_TEST_REQUIRE(r.status == 200);
  auto data = r.json().at("data").as_object();
  data.erase("updatedAt");
  return data;
}

inline std::string status_of(const HttpResponse& r) {
  return std::string(r.json().at("data").at("status").as_string());
}

inline std::unique_ptr<server::Store> open_store(const std::string& url) {
  server::StoreOptions o;
  o.database_url = url;
  o.pool_size = 1;
  return server::open_store(o);
}

inline std::string gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace streamgate::test
