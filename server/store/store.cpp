// What the store interface does itself: names, the document form, and replay built on the
// backends' failed_inbox and replay_one.
#include "server/store/store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace streamgate::server {

std::string_view to_string(InboxOutcome o) {
  switch (o) {
    case InboxOutcome::applied: return "applied";
    case InboxOutcome::failed: return "failed";
    case InboxOutcome::duplicate: return "duplicate";
    case InboxOutcome::ignored: return "ignored";
  }
  return "failed";
}

std::string meeting_to_document(const core::Meeting& m) {
  return boost::json::serialize(core::to_storage_json(m));
}

core::Meeting meeting_from_document(const std::string& doc) {
  boost::system::error_code ec;
  auto v = boost::json::parse(doc, ec);
  // Not a document any build wrote: the store is damaged, which callers answer as unavailable.
  if (ec || !v.is_object()) throw StoreUnavailable("stored meeting document is not a JSON object");
  return core::from_storage_json(v.get_object());
}

http::Task<std::vector<ReplayItem>> Store::replay_failed(std::vector<std::string> ids,
                                                         std::size_t limit, ApplyFactory factory) {
  auto find = failed_inbox(std::move(ids), limit);  // [gcc12-co_await]
  const auto failed = co_await std::move(find);
  std::vector<ReplayItem> out;
  for (const auto& rec : failed) {
    auto one = replay_one(rec.webhook_id, factory);  // [gcc12-co_await]
    auto item = co_await std::move(one);
    if (item) out.push_back(std::move(*item));
  }
  co_return out;
}

// Backends without an outbox or a meeting list (test doubles) refuse them as unavailable.
namespace {
[[noreturn]] void unsupported(const char* what) {
  throw StoreUnavailable(std::string(what) + " is not supported by this store");
}
}  // namespace

http::Task<MeetingPage> Store::list_meetings(MeetingListQuery) {
  unsupported("the meeting list");
  co_return MeetingPage{};
}
http::Task<std::vector<AppEventRecord>> Store::claim_app_events(AppEventClaim) {
  unsupported("the outbox");
  co_return std::vector<AppEventRecord>{};
}
http::Task<bool> Store::finish_app_event(AppEventOutcome) {
  unsupported("the outbox");
  co_return false;
}
http::Task<std::vector<AppEventRecord>> Store::list_app_events(std::string, std::int64_t,
                                                               std::size_t) {
  unsupported("the outbox");
  co_return std::vector<AppEventRecord>{};
}
http::Task<std::int64_t> Store::redeliver_app_events(std::string, std::int64_t) {
  unsupported("the outbox");
  co_return 0;
}
http::Task<AppEventStats> Store::app_event_stats() {
  unsupported("the outbox");
  co_return AppEventStats{};
}

http::Task<std::vector<TranscriptFile>> Store::claim_transcript_jobs(TranscriptClaim) {
  unsupported("transcripts");
  co_return std::vector<TranscriptFile>{};
}
http::Task<bool> Store::finish_transcript_job(TranscriptOutcome) {
  unsupported("transcripts");
  co_return false;
}
http::Task<bool> Store::store_transcript(TranscriptContent) {
  unsupported("transcripts");
  co_return false;
}
http::Task<TranscriptView> Store::get_transcript(std::string, std::string) {
  unsupported("transcripts");
  co_return TranscriptView{};
}
http::Task<TranscriptSearchPage> Store::search_transcripts(TranscriptSearch) {
  unsupported("transcripts");
  co_return TranscriptSearchPage{};
}

}  // namespace streamgate::server
