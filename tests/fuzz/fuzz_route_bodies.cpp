// Every parser of outside text that is not a webhook or a JWT: the JSON bodies of every route
// (token, create call, add participant, webhook replay), the call reference of the path, and
// Stream's answers (error bodies, Retry-After and X-RateLimit-Reset). The first byte picks the
// parser; the rest is the input.
// Properties: a client's input is either parsed within its bounds or a 400 with the envelope's
// code; Stream's answer always maps to one of the documented statuses, with a bounded message
// and a wait of at most a day.
#include <boost/json/serialize.hpp>

#include "core/ids.hpp"
#include "http/types.hpp"
#include "server/calls/call_request.hpp"
#include "server/clients/stream_error.hpp"
#include "server/meetings/replay_request.hpp"
#include "server/tokens/token_request.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace streamgate;

namespace {

void client_body(std::uint8_t which, std::string_view text) {
  try {
    switch (which % 5) {
      case 0: {
        const auto r = server::parse_token_request(text);
        FUZZ_CHECK(r.call_cids.size() <= 32);
        FUZZ_CHECK(r.role.empty() || !r.call_cids.empty());
        break;
      }
      case 1: {
        const auto r = server::parse_create_call(text, "alice", "host");
        FUZZ_CHECK(core::is_valid_call_id(r.type) && core::is_valid_call_id(r.id));
        FUZZ_CHECK(!r.members.empty() && r.members.size() <= 100);
        FUZZ_CHECK(r.members[0].user_id == "alice" && r.members[0].role == "host");
        for (std::size_t i = 1; i < r.members.size(); ++i) {
          FUZZ_CHECK(core::is_valid_user_id(r.members[i].user_id));
          FUZZ_CHECK(r.members[i].user_id != "alice");
        }
        break;
      }
      case 2: {
        const auto m = server::parse_participant(text, "participant");
        FUZZ_CHECK(core::is_valid_user_id(m.user_id) && core::is_valid_call_id(m.role));
        break;
      }
      case 3: {
        const auto r = server::parse_replay_request(text);
        FUZZ_CHECK(r.limit >= 1 && r.limit <= 1000 && r.webhook_ids.size() <= 1000);
        break;
      }
      case 4: {
        const auto nl = text.find('\n');
        const auto type = text.substr(0, nl);
        const auto id = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        const auto r = server::parse_call_ref(type, id);
        FUZZ_CHECK(core::is_valid_call_id(r.type) && core::is_valid_call_id(r.id));
        break;
      }
    }
  } catch (const http::HttpError& e) {
    FUZZ_CHECK(e.status == 400 && e.code == "invalid_request");
  }
}

// Stream's answer: two bytes of status, then "Retry-After\nX-RateLimit-Reset\nbody".
void stream_answer(std::string_view text) {
  if (text.size() < 2) return;
  http::ClientResponse r;
  r.status =
      100 + (static_cast<unsigned char>(text[0]) * 256 + static_cast<unsigned char>(text[1])) % 500;
  text.remove_prefix(2);
  const auto first = text.find('\n');
  const auto second = first == std::string_view::npos ? first : text.find('\n', first + 1);
  if (second != std::string_view::npos) {
    r.headers.emplace_back("Retry-After", std::string(text.substr(0, first)));
    r.headers.emplace_back("X-RateLimit-Reset",
                           std::string(text.substr(first + 1, second - first - 1)));
    r.body = std::string(text.substr(second + 1));
  } else {
    r.body = std::string(text);
  }
  for (const std::int64_t now :
       {std::int64_t{1'800'000'000}, std::int64_t{0}, INT64_MIN, INT64_MAX}) {
    if (const auto wait = server::server_wait_ms(r, now))
      FUZZ_CHECK(*wait >= 0 && *wait <= 86'400'000);
    const auto e = server::error_from_response(r, now);
    FUZZ_CHECK(e.retry_after_seconds >= 0 && e.retry_after_seconds <= 86'400);
    FUZZ_CHECK(std::string_view(e.what()).size() <= server::kMaxUpstreamMessage + 64);
    const auto out = server::to_http_error(e);
    FUZZ_CHECK(out.status == 400 || out.status == 404 || out.status == 409 || out.status == 422 ||
               out.status == 502 || out.status == 503 || out.status == 504);
    FUZZ_CHECK(std::string_view(out.what()).size() <= server::kMaxUpstreamMessage + 128);
    for (const auto& [k, v] : out.headers)
      if (k == "Retry-After") FUZZ_CHECK(std::stoll(v) >= 1 && std::stoll(v) <= 86'400);
    (void)boost::json::serialize(out.details);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text = as_text(data + 1, size - 1);
  if (data[0] >= 0xf0)
    stream_answer(text);
  else
    client_body(data[0], text);
  return 0;
}
