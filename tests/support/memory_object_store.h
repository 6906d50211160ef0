// MemoryObjectStore: an in-memory objstore::ObjectStore for unit tests
// (put-if-absent, ranges, paged listing; no multipart uploads), with fault
// hooks: a function run before each Put (to inject races) and a Status that
// every call of one kind fails with while it is set (to emulate an outage).
// Test-only (library pinpipe_testing). Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "pinpipe/objstore/object_store.h"

namespace pinpipe::testing {

class MemoryObjectStore final : public objstore::ObjectStore {
 public:
  // The calls a fault can be set on.
  enum class Op { kPut, kGet, kHead, kDelete, kList };

  std::string Url() const override { return "mem://test"; }

  Status Put(std::string_view key, std::string_view data,
             const objstore::PutOptions& options) override {
    std::function<void(std::string_view)> hook;
    {
      std::lock_guard lock(mu_);
      hook = before_put_;
    }
    if (hook) hook(key);
    std::lock_guard lock(mu_);
    PINPIPE_RETURN_IF_ERROR(Fault(Op::kPut));
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
    PINPIPE_RETURN_IF_ERROR(Fault(Op::kGet));
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFoundError("no such key: " + std::string(key));
    if (!range) return it->second.data;
    int64_t last = range->last < 0 ? static_cast<int64_t>(it->second.data.size()) - 1 : range->last;
    return it->second.data.substr(range->first, last - range->first + 1);
  }

  Result<objstore::ObjectInfo> Head(std::string_view key) override {
    std::lock_guard lock(mu_);
    PINPIPE_RETURN_IF_ERROR(Fault(Op::kHead));
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFoundError("no such key: " + std::string(key));
    return objstore::ObjectInfo{it->first, static_cast<int64_t>(it->second.data.size()),
                                it->second.modified_ms, ""};
  }

  Status Delete(std::string_view key) override {
    std::lock_guard lock(mu_);
    PINPIPE_RETURN_IF_ERROR(Fault(Op::kDelete));
    objects_.erase(std::string(key));
    return Status::Ok();
  }

  Result<objstore::ListPage> List(std::string_view prefix, std::string_view token,
                                  int max_keys = 1000) override {
    std::lock_guard lock(mu_);
    PINPIPE_RETURN_IF_ERROR(Fault(Op::kList));
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
    return UnimplementedError("memory store: no uploads");
  }

  // Stores `data` under `key` (no hook, no fault): test setup.
  void Add(std::string_view key, std::string_view data) {
    std::lock_guard lock(mu_);
    objects_[std::string(key)] = {std::string(data), ++clock_};
  }
  // While `status` is not OK, every call of kind `op` fails with it and
  // changes nothing; an OK status clears the fault.
  void SetFault(Op op, Status status) {
    std::lock_guard lock(mu_);
    if (status.ok()) {
      faults_.erase(op);
    } else {
      faults_[op] = std::move(status);
    }
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
  Status Fault(Op op) const {
    auto it = faults_.find(op);
    return it == faults_.end() ? Status::Ok() : it->second;
  }

  struct Object {
    std::string data;
    int64_t modified_ms = 0;
  };
  std::mutex mu_;
  std::map<std::string, Object> objects_;
  int64_t clock_ = 0;
  std::function<void(std::string_view)> before_put_;
  std::map<Op, Status> faults_;
};

}  // namespace pinpipe::testing
