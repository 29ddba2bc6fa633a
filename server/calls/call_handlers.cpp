#include "server/calls/call_handlers.hpp"

#include "http/json_response.hpp"
#include "http/log.hpp"
#include "http/middleware.hpp"

namespace streamgate::server {

namespace {

CallRef call_ref(const http::Request& req, const http::Context& ctx) {
  return parse_call_ref(req.query_param("type").value_or("default"), ctx.param("callId"));
}

http::LogLine audit(const char* what, const http::Context& ctx, const CallRef& ref) {
  http::LogLine line(what);
  line.add("audit", true)
      .add("user", ctx.principal->subject)
      .add("callCid", ref.type + ":" + ref.id)
      .add("requestId", ctx.request_id)
      .add("traceId", ctx.trace_id);
  return line;
}

}  // namespace

http::Handler make_create_call_handler(std::shared_ptr<const CallSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    CreateCallRequest request =
        parse_create_call(req.body, ctx.principal->subject, s->creator_role);
    const CallRef ref{request.type, request.id};
    auto create = create_call(*s, *ctx.principal, std::move(request),
                              http::trace_of(ctx));  // [gcc12-co_await]
    const CreatedCall call = co_await std::move(create);
    http::log(spdlog::level::info, audit("call created", ctx, ref).add("created", call.created));
    co_return http::json_success(call.created ? 201 : 200, core::to_api_json(call.meeting),
                                 call.created ? "Call created" : "Call already exists");
  };
}

http::Handler make_add_participant_handler(std::shared_ptr<const CallSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const CallRef ref = call_ref(req, ctx);
    core::Member member = parse_participant(req.body, s->participant_role);
    auto add = add_participant(*s, *ctx.principal, ref, std::move(member),
                               http::trace_of(ctx));  // [gcc12-co_await]
    const core::Meeting meeting = co_await std::move(add);
    co_return http::json_success(200, core::to_api_json(meeting), "Participant added");
  };
}

http::Handler make_end_call_handler(std::shared_ptr<const CallSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const CallRef ref = call_ref(req, ctx);
    auto end = end_call(*s, *ctx.principal, ref, http::trace_of(ctx));  // [gcc12-co_await]
    const core::Meeting meeting = co_await std::move(end);
    http::log(spdlog::level::info, audit("call ended", ctx, ref));
    co_return http::json_success(200, core::to_api_json(meeting), "Call ended");
  };
}

http::Handler make_sync_call_handler(std::shared_ptr<const CallSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const CallRef ref = call_ref(req, ctx);
    auto sync = sync_call(*s, *ctx.principal, ref, http::trace_of(ctx));  // [gcc12-co_await]
    const core::Meeting meeting = co_await std::move(sync);
    co_return http::json_success(200, core::to_api_json(meeting), "Call synchronised with Stream");
  };
}

}  // namespace streamgate::server
