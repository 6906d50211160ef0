// FakeObjectStore: an in-memory ObjectStore for the table module's unit
// tests (put-if-absent, ranges, paged listing), with an optional hook that
// runs before each Put so tests can inject races. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>

#include "pinpipe/objstore/object_store.h"

namespace pinpipe::table {

class FakeObjectStore final : public objstore::ObjectStore {
 public:
  std::string Url() const override { return "mem://fake"; }

  Status Put(std::string_view key, std::string_view data,
             const objstore::PutOptions& options) override {
    std::function<void(std::string_view)> hook;
    {
      std::lock_guard lock(mu_);
      hook = before_put_;
    }
    if (hook) hook(key);
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(key));
    if (options.if_absent && it != objects_.end()) {
      return AlreadyExistsError("exists: " + std::string(key));
    }
    objects_[std::string(key)] = {std::string(data), ++clock_};
    return Status::Ok();
  }

  Result<std::string> Get(std::string_view key,
                          std::optional<objstore::ByteRange> range = std::nullopt) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFoundError("no such key: " + std::string(key));
    if (!range) return it->second.data;
    int64_t last = range->last < 0 ? static_cast<int64_t>(it->second.data.size()) - 1 : range->last;
    return it->second.data.substr(range->first, last - range->first + 1);
  }

  Result<objstore::ObjectInfo> Head(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFoundError("no such key: " + std::string(key));
    return objstore::ObjectInfo{it->first, static_cast<int64_t>(it->second.data.size()),
                                it->second.modified_ms, ""};
  }

  Status Delete(std::string_view key) override {
    std::lock_guard lock(mu_);
    objects_.erase(std::string(key));
    return Status::Ok();
  }

  Result<objstore::ListPage> List(std::string_view prefix, std::string_view token,
                                  int max_keys = 1000) override {
    std::lock_guard lock(mu_);
    objstore::ListPage page;
    auto it = token.empty() ? objects_.lower_bound(std::string(prefix))
                            : objects_.upper_bound(std::string(token));
    for (; it != objects_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      if (static_cast<int>(page.objects.size()) == max_keys) {
        page.next_token = page.objects.back().key;
        break;
      }
      page.objects.push_back(
          {it->first, static_cast<int64_t>(it->second.data.size()), it->second.modified_ms, ""});
    }
    return page;
  }

  Result<std::unique_ptr<objstore::Upload>> StartUpload(std::string_view,
                                                        const objstore::PutOptions&) override {
    return UnimplementedError("fake store: no uploads");
  }

  void SetBeforePut(std::function<void(std::string_view)> hook) {
    std::lock_guard lock(mu_);
    before_put_ = std::move(hook);
  }
  // Sets the modification time of every object (ms), for vacuum tests.
  void SetAllModified(int64_t ms) {
    std::lock_guard lock(mu_);
    for (auto& [k, o] : objects_) o.modified_ms = ms;
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return objects_.size();
  }

 private:
  struct Object {
    std::string data;
    int64_t modified_ms = 0;
  };
  std::mutex mu_;
  std::map<std::string, Object> objects_;
  int64_t clock_ = 0;
  std::function<void(std::string_view)> before_put_;
};

}  // namespace pinpipe::table
