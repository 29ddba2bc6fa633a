// The token endpoint's body parser: anything is either a parsed request within its bounds or a
// 400 with a reason.
#include "http/types.hpp"
#include "server/tokens/token_request.hpp"
#include "tests/fuzz/fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto r = streamgate::server::parse_token_request(as_text(data, size));
    FUZZ_CHECK(r.call_cids.size() <= 32);
    FUZZ_CHECK(r.role.empty() || !r.call_cids.empty());
  } catch (const streamgate::http::HttpError& e) {
    FUZZ_CHECK(e.status == 400);
  }
  return 0;
}
