// `pinpipe topics create|list|describe|delete`, `pinpipe produce` and
// `pinpipe consume`: the admin and console tools of the log, in the roles of
// kafka-topics.sh, kafka-console-producer.sh and kafka-console-consumer.sh.
// Every command takes --data-dir (general.data_dir) and works on the broker
// that broker.type selects (the embedded log by default).
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>

#include "cli.h"
#include "pinpipe/runtime/signals.h"
#include "pinpipe/runtime/wiring.h"

namespace pinpipe::app {
namespace {

using runtime::OpenBroker;

struct TopicFlags {
  std::string topic;
  int32_t partitions = 1;
  std::string fsync;
  std::string retention_ms;
  std::string retention_bytes;
  std::string segment_bytes;
  bool if_not_exists = false;
};

Status RequireTopic(const std::string& topic) {
  if (topic.empty()) return InvalidArgumentError("--topic is required");
  return Status::Ok();
}

Result<int64_t> DurationOrForever(const std::string& text, std::string_view flag) {
  if (text.empty()) return int64_t{0};
  if (text == "-1") return int64_t{-1};
  auto v = ParseMillis(text);
  if (!v.ok() || *v <= 0) {
    return InvalidArgumentError(std::string(flag) +
                                ": expected a duration such as 7d or -1, got '" + text + "'");
  }
  return *v;
}

Result<int64_t> BytesOrUnlimited(const std::string& text, std::string_view flag) {
  if (text.empty()) return int64_t{0};
  if (text == "-1") return int64_t{-1};
  auto v = ParseBytes(text);
  if (!v.ok() || *v <= 0) {
    return InvalidArgumentError(std::string(flag) + ": expected a size such as 1GiB or -1, got '" +
                                text + "'");
  }
  return *v;
}

Status CreateTopic(const Config& config, const TopicFlags& f) {
  PINPIPE_RETURN_IF_ERROR(RequireTopic(f.topic));
  broker::TopicConfig tc;
  tc.partitions = f.partitions;
  tc.fsync = f.fsync;
  PINPIPE_ASSIGN_OR_RETURN(tc.retention_ms, DurationOrForever(f.retention_ms, "--retention-ms"));
  PINPIPE_ASSIGN_OR_RETURN(tc.retention_bytes,
                           BytesOrUnlimited(f.retention_bytes, "--retention-bytes"));
  PINPIPE_ASSIGN_OR_RETURN(tc.segment_bytes, BytesOrUnlimited(f.segment_bytes, "--segment-bytes"));
  if (tc.segment_bytes < 0) return InvalidArgumentError("--segment-bytes cannot be -1");
  PINPIPE_ASSIGN_OR_RETURN(auto b, OpenBroker(config));
  Status s = b->CreateTopic(f.topic, tc);
  if (s.code() == StatusCode::kAlreadyExists && f.if_not_exists) return Status::Ok();
  PINPIPE_RETURN_IF_ERROR(s);
  std::cout << "Created topic " << f.topic << "." << std::endl;
  return Status::Ok();
}

Status ListTopics(const Config& config) {
  PINPIPE_ASSIGN_OR_RETURN(auto b, OpenBroker(config));
  PINPIPE_ASSIGN_OR_RETURN(auto names, b->ListTopics());
  for (const auto& n : names) std::cout << n << "\n";
  std::cout.flush();
  return Status::Ok();
}

Status DescribeTopic(const Config& config, const std::string& topic) {
  PINPIPE_RETURN_IF_ERROR(RequireTopic(topic));
  PINPIPE_ASSIGN_OR_RETURN(auto b, OpenBroker(config));
  PINPIPE_ASSIGN_OR_RETURN(auto d, b->DescribeTopic(topic));
  std::cout << "Topic: " << d.name << "\tPartitionCount: " << d.config.partitions
            << "\tfsync: " << (d.config.fsync.empty() ? "-" : d.config.fsync)
            << "\tretention.ms: " << d.config.retention_ms
            << "\tretention.bytes: " << d.config.retention_bytes
            << "\tsegment.bytes: " << d.config.segment_bytes << "\n";
  for (const auto& p : d.partitions) {
    std::cout << "\tTopic: " << d.name << "\tPartition: " << p.partition << "\tLeader: " << p.leader
              << "\tLogStartOffset: " << p.log_start_offset
              << "\tHighWatermark: " << p.high_watermark << "\tSizeBytes: " << p.size_bytes << "\n";
  }
  std::cout.flush();
  return Status::Ok();
}

Status DeleteTopic(const Config& config, const std::string& topic) {
  PINPIPE_RETURN_IF_ERROR(RequireTopic(topic));
  PINPIPE_ASSIGN_OR_RETURN(auto b, OpenBroker(config));
  PINPIPE_RETURN_IF_ERROR(b->DeleteTopic(topic));
  std::cout << "Deleted topic " << topic << "." << std::endl;
  return Status::Ok();
}

struct ProduceFlags {
  std::string topic;
  std::string key_separator;
  int32_t partition = broker::kAnyPartition;
  int batch = 1000;
};

Status Produce(const Config& config, const ProduceFlags& f) {
  PINPIPE_RETURN_IF_ERROR(RequireTopic(f.topic));
  if (f.batch < 1) return InvalidArgumentError("--batch must be positive");
  PINPIPE_ASSIGN_OR_RETURN(auto b, OpenBroker(config));
  PINPIPE_RETURN_IF_ERROR(b->DescribeTopic(f.topic).status());
  std::vector<broker::Record> batch;
  int64_t produced = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    PINPIPE_ASSIGN_OR_RETURN(auto acks, b->Produce(f.topic, batch));
    for (const auto& a : acks) PINPIPE_RETURN_IF_ERROR(a.error);
    produced += static_cast<int64_t>(batch.size());
    batch.clear();
    return Status::Ok();
  };
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    broker::Record r;
    r.partition = f.partition;
    if (!f.key_separator.empty()) {
      const auto pos = line.find(f.key_separator);
      if (pos == std::string::npos) {
        return InvalidArgumentError("line " + std::to_string(produced + batch.size() + 1) +
                                    " has no key separator '" + f.key_separator + "'");
      }
      r.key = line.substr(0, pos);
      r.value = line.substr(pos + f.key_separator.size());
    } else {
      r.value = line;
    }
    batch.push_back(std::move(r));
    if (static_cast<int>(batch.size()) >= f.batch) PINPIPE_RETURN_IF_ERROR(flush());
  }
  PINPIPE_RETURN_IF_ERROR(flush());
  std::cerr << "Produced " << produced << " records to " << f.topic << "." << std::endl;
  return Status::Ok();
}

struct ConsumeFlags {
  std::string topic;
  bool from_beginning = false;
  std::string group;
  int64_t max = -1;
  double timeout_s = -1;
  bool print_key = false;
  bool print_offset = false;
};

Status Consume(const Config& config, const ConsumeFlags& f) {
  PINPIPE_RETURN_IF_ERROR(RequireTopic(f.topic));
  if (f.max == 0) return Status::Ok();
  runtime::SignalWaiter signals;  // before the broker starts threads
  PINPIPE_ASSIGN_OR_RETURN(auto b, OpenBroker(config));
  PINPIPE_RETURN_IF_ERROR(b->DescribeTopic(f.topic).status());
  broker::ConsumerOptions co;
  co.group = f.group;
  // Kafka consumers need a group: a throwaway one, like kafka-console-consumer's.
  if (co.group.empty() && b->Kind() == "kafka") {
    co.group = "pinpipe-consume-" + std::to_string(getpid());
  }
  co.reset = f.from_beginning ? broker::OffsetReset::kEarliest : broker::OffsetReset::kLatest;
  co.client_id = "pinpipe-consume";
  PINPIPE_ASSIGN_OR_RETURN(auto consumer, b->CreateConsumer(co));
  PINPIPE_RETURN_IF_ERROR(consumer->Subscribe({f.topic}));
  const int64_t idle_limit_ms = f.timeout_s < 0 ? -1 : static_cast<int64_t>(f.timeout_s * 1000);
  int64_t idle_ms = 0;
  int64_t count = 0;
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  while (!signals.stopping() && (f.max < 0 || count < f.max)) {
    const int64_t poll_ms =
        idle_limit_ms < 0 ? 200
                          : std::max<int64_t>(0, std::min<int64_t>(200, idle_limit_ms - idle_ms));
    const auto t0 = std::chrono::steady_clock::now();
    const int32_t want =
        f.max < 0 ? 1000 : static_cast<int32_t>(std::min<int64_t>(1000, f.max - count));
    PINPIPE_ASSIGN_OR_RETURN(auto recs, consumer->Poll(want, poll_ms));
    if (recs.empty()) {
      idle_ms += std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count();
      if (idle_limit_ms >= 0 && idle_ms >= idle_limit_ms) break;
      continue;
    }
    idle_ms = 0;
    for (const auto& r : recs) {
      if (f.print_offset) std::cout << r.partition << ":" << r.offset << "\t";
      if (f.print_key) std::cout << (r.key ? *r.key : "null") << "\t";
      std::cout << (r.value ? *r.value : "null") << "\n";
      next[{r.topic, r.partition}] = r.offset + 1;
      ++count;
    }
    std::cout.flush();
    if (!f.group.empty()) {
      std::vector<broker::TopicPartitionOffset> commit;
      for (const auto& [tp, o] : next) commit.push_back({tp.first, tp.second, o});
      PINPIPE_RETURN_IF_ERROR(consumer->Commit(commit));
    }
  }
  std::cerr << "Processed a total of " << count << " messages" << std::endl;
  return consumer->Close();
}

}  // namespace

void RegisterTopicCommands(CLI::App& app, CommandContext& ctx) {
  auto* topics = app.add_subcommand("topics", "Create, list, describe and delete topics");
  topics->require_subcommand(1);

  auto tf = std::make_shared<TopicFlags>();
  auto* create = topics->add_subcommand(
      "create",
      "Create a topic.\nExample: pinpipe topics create --topic abc.pin --partitions 3 "
      "--fsync interval:5 --retention-ms 7d");
  ctx.BindFlag(create, "--data-dir", "general.data_dir", "Data folder");
  ctx.BindFlag(create, "--bootstrap", "broker.bootstrap", kBootstrapHelp);
  create->add_option("--topic", tf->topic, "Topic name: 1-249 of [a-zA-Z0-9._-]")->required();
  create->add_option("--partitions", tf->partitions, "Number of partitions (1..10000)")
      ->capture_default_str();
  create->add_option("--fsync", tf->fsync, "always | interval:<ms> | never (default: log.fsync)");
  create->add_option("--retention-ms", tf->retention_ms,
                     "Delete segments older than this (e.g. 7d, 3600000; -1 keeps forever)");
  create->add_option("--retention-bytes", tf->retention_bytes,
                     "Delete oldest segments above this size per partition (-1: no limit)");
  create->add_option("--segment-bytes", tf->segment_bytes, "Roll segments at this size");
  create->add_flag("--if-not-exists", tf->if_not_exists, "Succeed if the topic already exists");
  ctx.SetAction(create, [tf](const Config& c) { return CreateTopic(c, *tf); });

  auto* list = topics->add_subcommand("list", "List topic names, one per line");
  ctx.BindFlag(list, "--data-dir", "general.data_dir", "Data folder");
  ctx.BindFlag(list, "--bootstrap", "broker.bootstrap", kBootstrapHelp);
  ctx.SetAction(list, [](const Config& c) { return ListTopics(c); });

  auto describe_topic = std::make_shared<std::string>();
  auto* describe = topics->add_subcommand(
      "describe", "Show a topic's settings and each partition's offsets and size");
  ctx.BindFlag(describe, "--data-dir", "general.data_dir", "Data folder");
  ctx.BindFlag(describe, "--bootstrap", "broker.bootstrap", kBootstrapHelp);
  describe->add_option("--topic", *describe_topic, "Topic name")->required();
  ctx.SetAction(describe,
                [describe_topic](const Config& c) { return DescribeTopic(c, *describe_topic); });

  auto delete_topic = std::make_shared<std::string>();
  auto* del = topics->add_subcommand("delete", "Delete a topic, its data and committed offsets");
  ctx.BindFlag(del, "--data-dir", "general.data_dir", "Data folder");
  ctx.BindFlag(del, "--bootstrap", "broker.bootstrap", kBootstrapHelp);
  del->add_option("--topic", *delete_topic, "Topic name")->required();
  ctx.SetAction(del, [delete_topic](const Config& c) { return DeleteTopic(c, *delete_topic); });

  auto pf = std::make_shared<ProduceFlags>();
  auto* produce =
      app.add_subcommand("produce",
                         "Produce stdin lines as records; exits once all are acknowledged.\n"
                         "Example: printf 'a\\nb\\n' | pinpipe produce --topic abc.pin");
  ctx.BindFlag(produce, "--data-dir", "general.data_dir", "Data folder");
  ctx.BindFlag(produce, "--bootstrap", "broker.bootstrap", kBootstrapHelp);
  produce->add_option("--topic", pf->topic, "Topic name")->required();
  produce->add_option("--key-separator", pf->key_separator,
                      "Split each line into key and value at the first SEP");
  produce->add_option("--partition", pf->partition, "Partition (default: by key hash / sticky)");
  produce->add_option("--batch", pf->batch, "Records per produce request")->capture_default_str();
  ctx.SetAction(produce, [pf](const Config& c) { return Produce(c, *pf); });

  auto cf = std::make_shared<ConsumeFlags>();
  auto* consume = app.add_subcommand(
      "consume",
      "Print record values, one per line (like kafka-console-consumer.sh).\n"
      "Example: pinpipe consume --topic abc.pin --from-beginning --max 10 --timeout 5");
  ctx.BindFlag(consume, "--data-dir", "general.data_dir", "Data folder");
  ctx.BindFlag(consume, "--bootstrap", "broker.bootstrap", kBootstrapHelp);
  consume->add_option("--topic", cf->topic, "Topic name")->required();
  consume->add_flag("--from-beginning", cf->from_beginning,
                    "Without a committed offset, start at the earliest record (else the end)");
  consume->add_option("--group", cf->group, "Consumer group; offsets are committed under it");
  consume->add_option("--max", cf->max, "Stop after N records");
  consume->add_option("--timeout", cf->timeout_s, "Stop after SECONDS without new records");
  consume->add_flag("--print-key", cf->print_key, "Print KEY<TAB>VALUE");
  consume->add_flag("--print-offset", cf->print_offset, "Prefix PARTITION:OFFSET<TAB>");
  ctx.SetAction(consume, [cf](const Config& c) { return Consume(c, *cf); });
}

}  // namespace pinpipe::app
