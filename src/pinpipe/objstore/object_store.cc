#include "pinpipe/objstore/object_store.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>

#include "pinpipe/base/config.h"
#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/objstore/s3_object_store.h"

namespace pinpipe::objstore {

std::vector<Status> ObjectStore::PutMany(std::span<const PutRequest> requests) {
  std::vector<Status> out;
  out.reserve(requests.size());
  for (const PutRequest& r : requests) out.push_back(Put(r.key, r.data, r.options));
  return out;
}

void ForEachConcurrently(size_t n, size_t threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < std::min(threads, n); ++t) {
    try {
      helpers.emplace_back(worker);
    } catch (const std::system_error&) {
      break;  // fewer threads; this one does the rest
    }
  }
  worker();
  for (auto& t : helpers) t.join();
}

Result<std::vector<ObjectInfo>> ObjectStore::ListAll(std::string_view prefix) {
  std::vector<ObjectInfo> all;
  std::string token;
  while (true) {
    PINPIPE_ASSIGN_OR_RETURN(ListPage page, List(prefix, token, 1000));
    for (auto& object : page.objects) all.push_back(std::move(object));
    if (page.next_token.empty()) break;
    if (page.next_token == token) return InternalError("listing did not advance");
    token = std::move(page.next_token);
  }
  return all;
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url, const Config& config) {
  if (url.empty()) return InvalidArgumentError("object store URL is empty");
  if (url.starts_with("s3://")) {
    PINPIPE_ASSIGN_OR_RETURN(S3Options options, S3OptionsFromConfig(url, config));
    PINPIPE_ASSIGN_OR_RETURN(auto store, S3ObjectStore::Open(std::move(options)));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  std::string path;
  if (url.starts_with("file://")) {
    path = std::string(url.substr(7));
    if (path.empty()) return InvalidArgumentError("file:// URL without a path");
  } else if (url.find("://") != std::string_view::npos) {
    return InvalidArgumentError("unsupported object store URL '" + std::string(url) +
                                "' (use file:///path or s3://bucket/prefix)");
  } else {
    path = std::string(url);
  }
  PINPIPE_ASSIGN_OR_RETURN(auto store, LocalObjectStore::Open(path));
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace pinpipe::objstore
