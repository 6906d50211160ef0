// The table of every configuration key: name, default, help. `pinpipe config
// show` prints it; the README's configuration section is generated from it.
#include "pinpipe/base/config.h"

namespace pinpipe {

const std::vector<ConfigKey>& KnownConfigKeys() {
  static const std::vector<ConfigKey> keys = {
      // general
      {"general.data_dir", "./data", "Folder for the embedded log, run history and local state."},
      {"general.prefix", "0a60b9a8a831",
       "User prefix: names topics <prefix>.pin, streams streaming-<prefix>-pin, tables "
       "<prefix>_pin_table."},
      {"general.log_level", "info", "trace, debug, info, warn, error or off."},
      // source
      {"source.url", "sqlite://./data/source.db",
       "Source database: sqlite:///path, mysql://user@host:port/db, "
       "postgresql://user@host:port/db."},
      {"source.password", "", "Password for the source database (else from the URL).", true},
      // posting emulator
      {"emulate.api", "http://127.0.0.1:8082",
       "API base URL `pinpipe emulate` posts to (may end in a stage path)."},
      {"emulate.api_key", "", "Sent as the x-api-key header by `pinpipe emulate` when set.", true},
      // broker
      {"broker.type", "embedded", "embedded (the built-in log) or kafka (librdkafka)."},
      {"broker.bootstrap", "",
       "host:port of a running pinpipe (or Kafka) that CLI commands go through (flag "
       "--bootstrap); \"\" = the server in general.data_dir's kafka_api.address, else the log."},
      // embedded log
      {"log.fsync", "interval:5", "Durability: always, interval:<ms> (group commit) or never."},
      {"log.segment_bytes", "128MiB", "Roll a segment file at this size."},
      {"log.segment_ms", "7d", "Roll a segment file at this age."},
      {"log.retention_ms", "7d", "Delete whole segments older than this (-1: keep forever)."},
      {"log.retention_bytes", "-1",
       "Delete oldest segments above this size per partition (-1: no limit)."},
      // api server
      {"api.listen", "127.0.0.1:8082",
       "Address the HTTP API (Kafka REST, Kinesis, dashboard) listens on."},
      {"api.threads", "2", "I/O threads of the HTTP server."},
      {"api.body_limit", "10MiB", "Largest accepted request body (413 beyond)."},
      {"api.keys", "", "Comma-separated API keys; when set, every request needs one.", true},
      {"api.tls_cert", "", "PEM certificate file; with api.tls_key enables HTTPS."},
      {"api.tls_key", "", "PEM private key file for api.tls_cert.", true},
      {"api.auto_create_topics", "true",
       "Create a topic on first produce (Kafka's auto.create.topics.enable)."},
      {"api.default_partitions", "1", "Partitions of an auto-created topic."},
      {"api.auto_create_streams", "true",
       "Create a stream on first put through the API Gateway routes."},
      {"api.default_shards", "1", "Shards of an auto-created stream."},
      {"api.kinesis_access_key", "", "When set with the secret, SigV4 signatures are verified."},
      {"api.kinesis_secret_key", "", "Secret key for SigV4 verification.", true},
      {"api.kinesis_iterator_key", "",
       "Key (16+ bytes) that signs Kinesis shard iterators; the same on every API node behind one "
       "endpoint. Empty: generated once into <data_dir>/kinesis/iterator.key (one node).",
       true},
      {"api.kinesis_iterator_key_file", "",
       "File holding api.kinesis_iterator_key (trailing newline ignored), instead of the key."},
      // Kafka wire protocol
      {"kafka_api.listen", "127.0.0.1:9092",
       "Address the Kafka protocol listens on (serve, up); empty turns it off."},
      {"kafka_api.advertised", "",
       "host:port returned to Kafka clients in Metadata (default: the listen address)."},
      {"kafka_api.max_request_bytes", "100MiB",
       "Largest Kafka request frame; a larger one closes the connection."},
      {"kafka_api.threads", "2", "I/O threads of the Kafka protocol server."},
      {"kafka_api.tls_cert", "",
       "PEM certificate file for TLS on the Kafka listener (default: api.tls_cert)."},
      {"kafka_api.tls_key", "",
       "PEM private key file for kafka_api.tls_cert (default: api.tls_key).", true},
      // object store / lake
      {"lake.url", "file://./data/lake",
       "Object store for the sink: file:///path or s3://bucket/prefix."},
      {"s3.region", "us-east-1", "Region for SigV4 signing (else $AWS_REGION)."},
      {"s3.endpoint", "",
       "Endpoint override for S3-compatible stores, e.g. http://127.0.0.1:4568."},
      {"s3.path_style", "false", "Use path-style addressing (bucket in the path)."},
      {"s3.access_key", "", "Access key (else $AWS_ACCESS_KEY_ID or ~/.aws/credentials)."},
      {"s3.secret_key", "", "Secret key (else $AWS_SECRET_ACCESS_KEY).", true},
      {"s3.conditional_put", "header",
       "Put-if-absent: header (If-None-Match: *) or check (HEAD first; servers without it)."},
      // sink
      {"sink.enabled", "true", "Run the object-store sink inside `pinpipe up`."},
      {"sink.config", "", "Path of a connector .properties file; else the keys below."},
      {"sink.flush_size", "1000", "Records per object (the seed used 1)."},
      {"sink.rotate_schedule_interval_ms", "5000",
       "Commit open files at least this often (wall clock)."},
      // streaming
      {"stream.enabled", "true", "Run the streaming job inside `pinpipe up`."},
      {"stream.tables", "file://./data/tables",
       "Root of the Delta tables: file:///path or s3://bucket/prefix."},
      {"stream.trigger_ms", "200", "Micro-batch trigger interval."},
      {"stream.initial_position", "earliest", "earliest or latest."},
      {"stream.source", "broker",
       "Where the streams are read: broker (the embedded log or Kafka) or kinesis."},
      {"stream.kinesis_endpoint", "",
       "Kinesis endpoint for stream.source=kinesis, e.g. https://kinesis.us-east-1.amazonaws.com."},
      // Kinesis (the streaming job's source with stream.source=kinesis)
      {"kinesis.region", "us-east-1",
       "Region for SigV4 signing of Kinesis requests (else $AWS_REGION, $AWS_DEFAULT_REGION)."},
      {"stream.max_records_per_batch", "50000", "Most records one micro-batch reads."},
      // scheduler
      {"schedule.enabled", "true", "Run the scheduler inside `pinpipe up`."},
      {"schedule.batch_cron", "@daily",
       "When the batch DAG runs: cron (5 fields), @daily or @hourly."},
      {"schedule.timezone", "UTC", "Timezone of the schedule."},
      // batch
      {"batch.out", "./data/results", "Where batch results are written."},
  };
  return keys;
}

bool IsPassThroughSection(std::string_view section) { return section == "kafka"; }

}  // namespace pinpipe
