// Kafka RecordBatch v2 (magic 2): decoding what producers send and encoding
// what Fetch returns. The format is Kafka's (see docs/kafka-protocol.md):
//   baseOffset int64, batchLength int32, partitionLeaderEpoch int32,
//   magic int8, crc uint32 (CRC32C of attributes..end), attributes int16,
//   lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64,
//   producerId int64, producerEpoch int16, baseSequence int32,
//   records int32, then the records with varint lengths.
// Compressed batches (attributes & 7: gzip 1, snappy 2, lz4 3, zstd 4) are
// decoded; other codec ids get UNSUPPORTED_COMPRESSION_TYPE. Fetch always
// encodes uncompressed batches.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/broker/broker.h"
#include "pinpipe/kafka_api/protocol.h"
#include "pinpipe/log/record_batch.h"

namespace pinpipe::kafka_api {

// The producer fields of the batches in one Produce partition entry.
struct ProducedBatches {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;  // across all batches
};

// Decodes every batch in `records` (a Produce partition's Records field)
// into `out`, each with `partition` set. On any error nothing is appended
// and the Kafka error code is returned (CORRUPT_MESSAGE for a bad CRC or a
// truncated batch, UNSUPPORTED_FOR_MESSAGE_FORMAT-like INVALID_RECORD for
// magic < 2, UNSUPPORTED_COMPRESSION_TYPE). `scratch` holds decompressed
// bytes that `out` may point into; keep it alive while `out` is used.
ErrorCode DecodeBatches(std::string_view records, int32_t partition,
                        std::vector<broker::Record>* out, ProducedBatches* info,
                        std::vector<std::string>* scratch);

// Appends one uncompressed RecordBatch v2 holding `records` (offsets
// ascending) to `out`. Nothing is written for no records.
void EncodeBatch(const std::vector<log::LogRecordRef>& records, std::string* out);
void EncodeBatch(const std::vector<broker::StoredRecord>& records, std::string* out);
// Bytes EncodeBatch appends for `records` (0 for none), for a length prefix
// written before the batch.
size_t EncodedBatchSize(const std::vector<log::LogRecordRef>& records);
size_t EncodedBatchSize(const std::vector<broker::StoredRecord>& records);

}  // namespace pinpipe::kafka_api
