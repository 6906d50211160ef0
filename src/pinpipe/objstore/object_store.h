// ObjectStore: the seam between the pipeline and its object storage (the lake).
//
// Implementations: LocalObjectStore (a folder; the default) and S3ObjectStore
// (Amazon S3 or any S3-compatible server). Keys are '/'-separated relative
// paths such as "topics/abc.pin/partition=0/abc.pin+0+0000000000.json".
// Only runtime/ and apps/ (through OpenObjectStore) pick an implementation.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe {
class Config;
}

namespace pinpipe::objstore {

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  int64_t modified_ms = 0;
  std::string etag;
};

struct PutOptions {
  // Fail with AlreadyExists instead of overwriting (S3: If-None-Match: *).
  bool if_absent = false;
  std::string content_type = "application/octet-stream";
};

// One object of a PutMany batch. The views must stay valid during the call.
struct PutRequest {
  std::string_view key;
  std::string_view data;
  PutOptions options;
};

// Inclusive byte range [first, last]; last = -1 means to the end.
struct ByteRange {
  int64_t first = 0;
  int64_t last = -1;
};

struct ListPage {
  std::vector<ObjectInfo> objects;  // in key order
  std::string next_token;           // empty on the last page
};

// A streaming upload (multipart on S3). Nothing is visible under the key
// until Finish succeeds; Abort (or destruction without Finish) discards it.
class Upload {
 public:
  virtual ~Upload() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Finish() = 0;
  virtual void Abort() = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // The store's URL, e.g. "file:///data/lake" or "s3://bucket/prefix".
  virtual std::string Url() const = 0;

  // Writes the whole object atomically (readers see all or nothing).
  virtual Status Put(std::string_view key, std::string_view data, const PutOptions& options) = 0;
  // Writes several objects, each exactly as Put would (atomically, with its
  // own options), and returns one Status per request, in order. Every object
  // whose Status is OK is durable when the call returns, so a caller may then
  // record that they are written (e.g. commit consumer offsets). The default
  // calls Put for each; LocalObjectStore shares the syncs of a batch.
  virtual std::vector<Status> PutMany(std::span<const PutRequest> requests);
  // NotFound when absent.
  virtual Result<std::string> Get(std::string_view key,
                                  std::optional<ByteRange> range = std::nullopt) = 0;
  virtual Result<ObjectInfo> Head(std::string_view key) = 0;
  // Deleting an absent key is OK.
  virtual Status Delete(std::string_view key) = 0;
  // Keys starting with `prefix`, in key order, at most max_keys a page.
  virtual Result<ListPage> List(std::string_view prefix, std::string_view continuation_token,
                                int max_keys = 1000) = 0;
  virtual Result<std::unique_ptr<Upload>> StartUpload(std::string_view key,
                                                      const PutOptions& options) = 0;

  // Every page of List, concatenated.
  Result<std::vector<ObjectInfo>> ListAll(std::string_view prefix);
};

// Calls fn(i) for every i in [0, n) on up to `threads` threads (the caller's
// included), each i once; returns when all are done. For PutMany.
void ForEachConcurrently(size_t n, size_t threads, const std::function<void(size_t)>& fn);

// Opens `url`: file:///abs/path, file://./rel/path, a bare path, or
// s3://bucket[/prefix] (S3 settings from the `s3.*` config keys and the AWS
// environment). InvalidArgument for an unsupported URL.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url, const Config& config);

}  // namespace pinpipe::objstore
