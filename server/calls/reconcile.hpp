#pragma once
// Reconciliation (docs/spec.md §1.6): Stream's view of a call, applied to its meeting through
// the same rules as webhooks, so that a lost webhook is healed.
#include <memory>
#include <optional>
#include <string>

#include "core/meeting.hpp"
#include "http/task.hpp"
#include "http/trace.hpp"
#include "server/clients/stream_client.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

// Pulls the call, its recordings and its transcriptions from Stream and applies them to the
// meeting. Throws StreamError (an answer without a usable call is `unavailable`) and
// StoreUnavailable.
http::Task<std::optional<core::Meeting>> reconcile_call(std::shared_ptr<StreamClient> stream,
                                                        std::shared_ptr<Store> store,
                                                        std::string call_type, std::string call_id,
                                                        http::Trace trace);

}  // namespace streamgate::server
