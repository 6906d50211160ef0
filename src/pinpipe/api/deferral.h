// Deferral: lets a route answer after it returns. A produce route hands its
// records to Broker::ProduceAsync and answers from the broker's callback once
// they are durable, so a request waiting for a group commit holds no thread.
//
// A route that defers calls Defer() and, later and from any thread, the
// returned Finish exactly once with its whole response; the Service then
// sends that response and ignores the one the route left behind.
#pragma once

#include <functional>
#include <string_view>
#include <utility>

#include "pinpipe/http/server.h"

namespace pinpipe::api {

// Which names (topics, streams) a caller may see in a listing; empty: all.
using NameFilter = std::function<bool(std::string_view name)>;

class Deferral {
 public:
  using Finish = std::function<void(http::Response response)>;

  explicit Deferral(Finish finish) : finish_(std::move(finish)) {}

  Finish Defer() {
    deferred_ = true;
    if (parent_deferred_ != nullptr) *parent_deferred_ = true;
    return finish_;
  }
  bool deferred() const { return deferred_; }

  // A Deferral for a sub-route: deferring it defers this one, and its
  // response gets `edit` applied before this one's Finish sees it. It must
  // not outlive this Deferral (its Finish may).
  Deferral Adjusted(std::function<void(http::Response&)> edit) {
    Deferral d([finish = finish_, edit = std::move(edit)](http::Response r) {
      edit(r);
      finish(std::move(r));
    });
    d.parent_deferred_ = &deferred_;
    return d;
  }

 private:
  Finish finish_;
  bool deferred_ = false;
  bool* parent_deferred_ = nullptr;
};

}  // namespace pinpipe::api
