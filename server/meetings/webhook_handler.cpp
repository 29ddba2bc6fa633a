#include "server/meetings/webhook_handler.hpp"

#include <boost/json/parse.hpp>

#include "core/crypto.hpp"
#include "core/meeting.hpp"
#include "http/json_response.hpp"
#include "http/log.hpp"
#include "server/meetings/events.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

namespace {

StreamWebhook parse_or_reject(const WebhookSettings& s, const http::Request& req) {
  try {
    return parse_stream_webhook(req.body, req.header("x-webhook-id"));
  } catch (const HttpError&) {
    s.record("unknown", "rejected");
    throw;
  }
}

const char* outcome_message(InboxOutcome o) {
  switch (o) {
    case InboxOutcome::failed:
      return "Event stored; it could not be applied and is kept for replay";
    case InboxOutcome::ignored: return "Event acknowledged";
    default: return "Event processed";
  }
}

}  // namespace

StreamWebhook parse_stream_webhook(std::string_view body, std::string_view webhook_id_header) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object())
    throw HttpError(400, "invalid_request", "Webhook body is not a JSON object");
  StreamWebhook hook;
  hook.event = std::move(v.get_object());
  const auto* type = hook.event.if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string().empty())
    throw HttpError(400, "invalid_request", "Webhook event has no type");
  hook.type = std::string(type->get_string());
  hook.webhook_id = webhook_id_header.empty() ? "sha256:" + core::to_hex(core::sha256(body))
                                              : std::string(webhook_id_header);
  if (!is_sane_webhook_id(hook.webhook_id))
    throw HttpError(400, "invalid_request", "X-Webhook-Id is malformed");
  return hook;
}

http::Task<InboxOutcome> receive_webhook(const WebhookSettings& s, const StreamWebhook& hook,
                                         std::string_view body, std::string_view request_id) {
  if (!core::is_meeting_event(hook.type)) {
    s.record(hook.type, "ignored");
    co_return InboxOutcome::ignored;
  }
  PreparedApply prepared = prepare_event(hook.event);
  InboxEvent inbox{hook.webhook_id,    hook.type,         prepared.call_type,
                   prepared.call_id,   std::string(body), core::to_unix_nanos(core::system_now()),
                   prepared.session_id};
  std::optional<InboxOutcome> outcome;
  std::string error;
  try {
    auto record =
        s.store->record_webhook(std::move(inbox), std::move(prepared.apply));  // [gcc12-co_await]
    outcome = co_await std::move(record);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!outcome) {
    // Not kept: Stream must retry, so never 200 here (mapped to 503 with Retry-After).
    s.record(hook.type, "unavailable");
    http::log(spdlog::level::err, http::LogLine("webhook not stored")
                                      .add("webhookId", hook.webhook_id)
                                      .add("type", hook.type)
                                      .add("requestId", request_id)
                                      .add("error", error));
    throw StoreUnavailable(error);
  }
  s.record(hook.type, to_string(*outcome));
  if (*outcome == InboxOutcome::failed)
    http::log(spdlog::level::warn, http::LogLine("webhook kept for replay")
                                       .add("webhookId", hook.webhook_id)
                                       .add("type", hook.type));
  co_return *outcome;
}

http::Handler make_webhook_handler(std::shared_ptr<const WebhookSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const StreamWebhook hook = parse_or_reject(*s, req);
    auto receive = receive_webhook(*s, hook, req.body, ctx.request_id);  // [gcc12-co_await]
    const InboxOutcome outcome = co_await std::move(receive);
    co_return http::json_success(
        200,
        json::object{
            {"webhookId", hook.webhook_id}, {"type", hook.type}, {"status", to_string(outcome)}},
        outcome_message(outcome));
  };
}

}  // namespace streamgate::server
