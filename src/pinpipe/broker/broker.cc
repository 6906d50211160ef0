#include "pinpipe/broker/broker.h"

namespace pinpipe::broker {

StoredRecord ToStoredRecord(const RecordRef& ref) {
  StoredRecord s;
  s.topic = std::string(ref.topic);
  s.partition = ref.partition;
  s.offset = ref.offset;
  s.timestamp_ms = ref.timestamp_ms;
  if (ref.key) s.key.emplace(*ref.key);
  if (ref.value) s.value.emplace(*ref.value);
  s.headers.reserve(ref.headers.size());
  for (const auto& [k, v] : ref.headers) s.headers.push_back({std::string(k), std::string(v)});
  return s;
}

Result<std::span<const RecordRef>> Consumer::PollRefs(int32_t max_records, int64_t timeout_ms) {
  polled_refs_.clear();
  polled_headers_.clear();
  PINPIPE_ASSIGN_OR_RETURN(polled_, Poll(max_records, timeout_ms));
  size_t headers = 0;
  for (const StoredRecord& r : polled_) headers += r.headers.size();
  polled_headers_.reserve(headers);  // spans below point into it: no reallocation
  polled_refs_.reserve(polled_.size());
  for (const StoredRecord& r : polled_) {
    RecordRef& ref = polled_refs_.emplace_back();
    ref.topic = r.topic;
    ref.partition = r.partition;
    ref.offset = r.offset;
    ref.timestamp_ms = r.timestamp_ms;
    if (r.key) ref.key = *r.key;
    if (r.value) ref.value = *r.value;
    const size_t first = polled_headers_.size();
    for (const Header& h : r.headers) polled_headers_.emplace_back(h.key, h.value);
    ref.headers = std::span(polled_headers_).subspan(first, r.headers.size());
  }
  return std::span<const RecordRef>(polled_refs_);
}

}  // namespace pinpipe::broker
