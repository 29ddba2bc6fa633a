#include "server/ops/instrumented_store.hpp"

#include <chrono>

namespace streamgate::server {

namespace {

class InstrumentedStore final : public Store {
 public:
  InstrumentedStore(std::shared_ptr<Store> inner, std::shared_ptr<Metrics> m)
      : inner_(std::move(inner)), m_(std::move(m)) {}

  http::Task<InboxOutcome> record_webhook(InboxEvent e, ApplyFn apply) override {
    auto op = inner_->record_webhook(std::move(e), std::move(apply));
    co_return co_await timed("record_webhook", std::move(op));
  }
  using Store::update_meeting;
  http::Task<std::optional<core::Meeting>> update_meeting(std::string t, std::string i, MutateFn f,
                                                          std::string session) override {
    auto op = inner_->update_meeting(std::move(t), std::move(i), std::move(f), std::move(session));
    co_return co_await timed("update_meeting", std::move(op));
  }
  http::Task<std::optional<core::Meeting>> get_meeting(std::string t, std::string i) override {
    auto op = inner_->get_meeting(std::move(t), std::move(i));
    co_return co_await timed("get_meeting", std::move(op));
  }
  http::Task<std::vector<InboxRecord>> failed_inbox(std::vector<std::string> ids,
                                                    std::size_t limit) override {
    auto op = inner_->failed_inbox(std::move(ids), limit);
    co_return co_await timed("failed_inbox", std::move(op));
  }
  http::Task<std::optional<ReplayItem>> replay_one(std::string id, ApplyFactory f) override {
    auto op = inner_->replay_one(std::move(id), std::move(f));
    co_return co_await timed("replay_one", std::move(op));
  }
  http::Task<std::optional<InboxRecord>> get_inbox(std::string id) override {
    auto op = inner_->get_inbox(std::move(id));
    co_return co_await timed("get_inbox", std::move(op));
  }
  http::Task<std::vector<std::pair<std::string, std::string>>> claim_stale_meetings(
      StaleQuery q) override {
    auto op = inner_->claim_stale_meetings(q);
    co_return co_await timed("claim_stale_meetings", std::move(op));
  }
  http::Task<MeetingPage> list_meetings(MeetingListQuery q) override {
    auto op = inner_->list_meetings(std::move(q));
    co_return co_await timed("list_meetings", std::move(op));
  }
  http::Task<std::vector<AppEventRecord>> claim_app_events(AppEventClaim c) override {
    auto op = inner_->claim_app_events(std::move(c));
    co_return co_await timed("claim_app_events", std::move(op));
  }
  http::Task<bool> finish_app_event(AppEventOutcome o) override {
    auto op = inner_->finish_app_event(std::move(o));
    co_return co_await timed("finish_app_event", std::move(op));
  }
  http::Task<std::vector<AppEventRecord>> list_app_events(std::string status, std::int64_t after,
                                                          std::size_t limit) override {
    auto op = inner_->list_app_events(std::move(status), after, limit);
    co_return co_await timed("list_app_events", std::move(op));
  }
  http::Task<std::int64_t> redeliver_app_events(std::string id, std::int64_t now) override {
    auto op = inner_->redeliver_app_events(std::move(id), now);
    co_return co_await timed("redeliver_app_events", std::move(op));
  }
  http::Task<AppEventStats> app_event_stats() override {
    auto op = inner_->app_event_stats();
    co_return co_await timed("app_event_stats", std::move(op));
  }
  http::Task<std::vector<TranscriptFile>> claim_transcript_jobs(TranscriptClaim c) override {
    auto op = inner_->claim_transcript_jobs(std::move(c));
    co_return co_await timed("claim_transcript_jobs", std::move(op));
  }
  http::Task<bool> finish_transcript_job(TranscriptOutcome o) override {
    auto op = inner_->finish_transcript_job(std::move(o));
    co_return co_await timed("finish_transcript_job", std::move(op));
  }
  http::Task<bool> store_transcript(TranscriptContent c) override {
    auto op = inner_->store_transcript(std::move(c));
    co_return co_await timed("store_transcript", std::move(op));
  }
  http::Task<TranscriptView> get_transcript(std::string t, std::string i) override {
    auto op = inner_->get_transcript(std::move(t), std::move(i));
    co_return co_await timed("get_transcript", std::move(op));
  }
  http::Task<TranscriptSearchPage> search_transcripts(TranscriptSearch q) override {
    auto op = inner_->search_transcripts(std::move(q));
    co_return co_await timed("search_transcripts", std::move(op));
  }
  http::Task<bool> ping() override {
    auto op = inner_->ping();
    co_return co_await timed("ping", std::move(op));
  }
  std::string backend() const override { return inner_->backend(); }

 private:
  template <typename T>
  http::Task<T> timed(const char* name, http::Task<T> op) {
    const auto start = std::chrono::steady_clock::now();
    bool ok = false;
    struct Record {
      Metrics* m;
      const char* name;
      std::chrono::steady_clock::time_point start;
      bool* ok;
      ~Record() {
        m->store_call(
            name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            *ok);
      }
    } record{m_.get(), name, start, &ok};
    T result = co_await std::move(op);
    ok = true;
    co_return result;
  }

  std::shared_ptr<Store> inner_;
  std::shared_ptr<Metrics> m_;
};

}  // namespace

std::shared_ptr<Store> instrument(std::shared_ptr<Store> store, std::shared_ptr<Metrics> metrics) {
  return std::make_shared<InstrumentedStore>(std::move(store), std::move(metrics));
}

}  // namespace streamgate::server
