#pragma once
// A Store kept in memory, for unit tests of handlers without a database or a socket. It keeps
// the inbox and meetings as the real backends do (dedupe by webhook id, failed events kept),
// without durability, concurrency or the session archive.
#include <map>
#include <mutex>

#include "server/store/store.hpp"

namespace streamgate::test {

class MemoryStore final : public server::Store {
 public:
  using Key = std::pair<std::string, std::string>;

  http::Task<server::InboxOutcome> record_webhook(server::InboxEvent e,
                                                  server::ApplyFn apply) override {
    std::lock_guard lock(mutex_);
    if (inbox_.count(e.webhook_id)) co_return server::InboxOutcome::duplicate;
    std::optional<core::Meeting> current;
    if (auto it = meetings_.find({e.call_type, e.call_id}); it != meetings_.end())
      current = it->second;
    auto r = apply(current);
    auto& rec = inbox_[e.webhook_id];
    rec =
        server::InboxRecord{e.webhook_id, e.type, e.call_type, e.call_id, e.body, "applied", "", 1};
    if (!r.meeting || e.call_type.empty()) {
      rec.status = "failed";
      rec.error = r.error;
      co_return server::InboxOutcome::failed;
    }
    meetings_[{e.call_type, e.call_id}] = *r.meeting;
    co_return server::InboxOutcome::applied;
  }
  using Store::update_meeting;
  http::Task<std::optional<core::Meeting>> update_meeting(std::string type, std::string id,
                                                          MutateFn mutate, std::string) override {
    std::lock_guard lock(mutex_);
    ++writes;
    std::optional<core::Meeting> current;
    if (auto it = meetings_.find({type, id}); it != meetings_.end()) current = it->second;
    auto next = mutate(current);
    if (!next) co_return current;
    meetings_[{type, id}] = *next;
    co_return next;
  }
  http::Task<std::optional<core::Meeting>> get_meeting(std::string type, std::string id) override {
    std::lock_guard lock(mutex_);
    if (auto it = meetings_.find({type, id}); it != meetings_.end()) co_return it->second;
    co_return std::nullopt;
  }
  http::Task<std::vector<server::InboxRecord>> failed_inbox(std::vector<std::string>,
                                                            std::size_t) override {
    co_return std::vector<server::InboxRecord>{};
  }
  http::Task<std::optional<server::ReplayItem>> replay_one(std::string,
                                                           server::ApplyFactory) override {
    co_return std::nullopt;
  }
  http::Task<std::optional<server::InboxRecord>> get_inbox(std::string id) override {
    std::lock_guard lock(mutex_);
    if (auto it = inbox_.find(id); it != inbox_.end()) co_return it->second;
    co_return std::nullopt;
  }
  http::Task<std::vector<std::pair<std::string, std::string>>> claim_stale_meetings(
      StaleQuery) override {
    co_return std::vector<std::pair<std::string, std::string>>{};
  }
  http::Task<bool> ping() override { co_return true; }
  std::string backend() const override { return "memory"; }

  void put(const core::Meeting& m) {
    std::lock_guard lock(mutex_);
    meetings_[{m.call_type, m.call_id}] = m;
  }
  int writes = 0;  // update_meeting calls

 private:
  std::mutex mutex_;
  std::map<Key, core::Meeting> meetings_;
  std::map<std::string, server::InboxRecord> inbox_;
};

}  // namespace streamgate::test
