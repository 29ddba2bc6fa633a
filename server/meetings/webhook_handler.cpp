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

http::Task<InboxOutcome> receive_webhook(Store& store, const StreamWebhook& hook,
                                         std::string_view body) {
  PreparedApply prepared = prepare_event(hook.event);
  InboxEvent inbox{hook.webhook_id,    hook.type,         prepared.call_type,
                   prepared.call_id,   std::string(body), core::to_unix_nanos(core::system_now()),
                   prepared.session_id};
  auto record =
      store.record_webhook(std::move(inbox), std::move(prepared.apply));  // [gcc12-co_await]
  co_return co_await std::move(record);
}

http::Handler make_webhook_handler(std::shared_ptr<const WebhookSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    std::optional<StreamWebhook> hook;
    try {
      hook = parse_stream_webhook(req.body, req.header("x-webhook-id"));
    } catch (const HttpError&) {
      s->record("unknown", "rejected");
      throw;
    }
    if (!core::is_meeting_event(hook->type)) {
      s->record(hook->type, "ignored");
      co_return http::json_success(
          200,
          json::object{
              {"webhookId", hook->webhook_id}, {"type", hook->type}, {"status", "ignored"}},
          "Event acknowledged");
    }
    std::optional<InboxOutcome> outcome;
    std::string store_error;
    try {
      auto receive = receive_webhook(*s->store, *hook, req.body);  // [gcc12-co_await]
      outcome = co_await std::move(receive);
    } catch (const std::exception& e) {
      store_error = e.what();
    }
    if (!outcome) {
      // Not kept: Stream must retry, so never 200 here (mapped to 503 with Retry-After).
      s->record(hook->type, "unavailable");
      http::log(spdlog::level::err, http::LogLine("webhook not stored")
                                        .add("webhookId", hook->webhook_id)
                                        .add("type", hook->type)
                                        .add("requestId", ctx.request_id)
                                        .add("error", store_error));
      throw StoreUnavailable(store_error);
    }
    s->record(hook->type, to_string(*outcome));
    if (*outcome == InboxOutcome::failed)
      http::log(spdlog::level::warn, http::LogLine("webhook kept for replay")
                                         .add("webhookId", hook->webhook_id)
                                         .add("type", hook->type));
    co_return http::json_success(
        200,
        json::object{
            {"webhookId", hook->webhook_id}, {"type", hook->type}, {"status", to_string(*outcome)}},
        *outcome == InboxOutcome::failed
            ? "Event stored; it could not be applied and is kept for replay"
            : "Event processed");
  };
}

}  // namespace streamgate::server
