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

std::span<const RecordRef> PolledRecords::Hold(std::vector<StoredRecord> records) {
  refs_.clear();
  headers_.clear();
  records_ = std::move(records);
  size_t headers = 0;
  for (const StoredRecord& r : records_) headers += r.headers.size();
  headers_.reserve(headers);  // the spans below point into it: no reallocation
  refs_.reserve(records_.size());
  for (const StoredRecord& r : records_) {
    RecordRef& ref = refs_.emplace_back();
    ref.topic = r.topic;
    ref.partition = r.partition;
    ref.offset = r.offset;
    ref.timestamp_ms = r.timestamp_ms;
    if (r.key) ref.key = *r.key;
    if (r.value) ref.value = *r.value;
    const size_t first = headers_.size();
    for (const Header& h : r.headers) headers_.emplace_back(h.key, h.value);
    ref.headers = std::span(headers_).subspan(first, r.headers.size());
  }
  return refs_;
}

}  // namespace pinpipe::broker
