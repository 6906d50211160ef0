// Fuzz target over the Kafka request decoding that handles untrusted bytes:
// the request header and the primitive readers (every length checked
// against what is left), and the RecordBatch v2 decoder of Produce
// (lengths, CRC32C, varints, gzip/snappy/lz4/zstd bodies), and the admin
// request decoders (admin.h: DescribeGroups, DescribeConfigs,
// CreatePartitions, DescribeCluster) at every version. Decoding must never
// crash or read out of bounds; a batch that decodes must re-encode into one
// that decodes to the same records, of the size EncodedBatchSize says.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/kafka_api/admin.h"
#include "pinpipe/kafka_api/protocol.h"
#include "pinpipe/kafka_api/records.h"
#include "pinpipe/log/record_batch.h"

using namespace pinpipe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  {  // a request header and a generic walk through compact and classic fields
    kafka_api::Reader r(input);
    const int16_t key = r.Int16();
    const int16_t version = r.Int16();
    (void)r.Int32();
    (void)r.NullableString(false);
    const bool flex = kafka_api::IsFlexible(key, version);
    if (flex) r.SkipTaggedFields();
    const int32_t n = r.ArrayLength(flex);
    for (int32_t i = 0; i < n && r.ok(); ++i) {
      (void)r.String(flex);
      (void)r.NullableBytes(flex);
      (void)r.Varlong();
    }
  }
  {  // the admin decoders: decoding touches no broker (the body writers are not run)
    const kafka_api::AdminContext ctx;
    using Decode = std::optional<kafka_api::BodyWriter> (*)(const kafka_api::AdminContext&, int16_t,
                                                            bool, kafka_api::Reader&);
    const std::pair<int16_t, Decode> decoders[] = {
        {kafka_api::kDescribeGroups, kafka_api::DescribeGroups},
        {kafka_api::kDescribeConfigs, kafka_api::DescribeConfigs},
        {kafka_api::kCreatePartitions, kafka_api::CreatePartitions},
        {kafka_api::kDescribeCluster, kafka_api::DescribeCluster}};
    for (const auto& [key, decode] : decoders) {
      for (int16_t v = 0; v <= 5; ++v) {
        kafka_api::Reader r(input);
        (void)decode(ctx, v, kafka_api::IsFlexible(key, v), r);
      }
    }
  }
  std::vector<broker::Record> records;
  std::vector<std::string> scratch;
  kafka_api::ProducedBatches info;
  if (kafka_api::DecodeBatches(input, 0, &records, &info, &scratch) != kafka_api::kNone) {
    if (!records.empty()) __builtin_trap();  // a failed decode appends nothing
    return 0;
  }
  std::vector<broker::StoredRecord> stored;
  for (size_t i = 0; i < records.size(); ++i) {
    broker::StoredRecord s;
    s.offset = static_cast<int64_t>(i);
    s.timestamp_ms = records[i].timestamp_ms;
    s.key = records[i].key;
    s.value = records[i].value;
    s.headers = records[i].headers;
    stored.push_back(std::move(s));
  }
  std::string encoded;
  kafka_api::EncodeBatch(stored, &encoded);
  if (encoded.size() != kafka_api::EncodedBatchSize(stored)) __builtin_trap();  // Fetch's length
  std::vector<broker::Record> again;
  kafka_api::ProducedBatches info2;
  if (kafka_api::DecodeBatches(encoded, 0, &again, &info2, &scratch) != kafka_api::kNone ||
      again.size() != records.size()) {
    __builtin_trap();
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (again[i].key != records[i].key || again[i].value != records[i].value ||
        again[i].headers != records[i].headers ||
        again[i].timestamp_ms != records[i].timestamp_ms) {
      __builtin_trap();
    }
  }
  return 0;
}
