#include "pinpipe/sink/sink_config.h"

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "pinpipe/base/config.h"

namespace pinpipe::sink {
namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) comma = s.size();
    std::string item = Trim(s.substr(start, comma - start));
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

// The last dotted component: "io.confluent...DefaultPartitioner" -> "DefaultPartitioner".
std::string ShortClass(std::string_view s) {
  size_t dot = s.rfind('.');
  return std::string(dot == std::string_view::npos ? s : s.substr(dot + 1));
}

Result<int64_t> IntProp(const Properties& p, std::string_view key, int64_t fallback) {
  auto it = p.find(key);
  if (it == p.end() || Trim(it->second).empty()) return fallback;
  auto v = ParseInt(Trim(it->second));
  if (!v.ok()) return InvalidArgumentError(std::string(key) + ": not an integer: " + it->second);
  return *v;
}

std::string StrProp(const Properties& p, std::string_view key, std::string fallback = "") {
  auto it = p.find(key);
  return it == p.end() ? fallback : Trim(it->second);
}

}  // namespace

Result<int64_t> ParseTimezoneOffsetMs(std::string_view tz) {
  std::string s = Trim(tz);
  if (s == "UTC" || s == "GMT" || s == "Z" || s == "Etc/UTC" || s == "Etc/GMT" || s == "UCT" ||
      s == "Universal" || s == "Zulu") {
    return int64_t{0};
  }
  std::string_view v = s;
  if (v.starts_with("UTC") || v.starts_with("GMT")) v.remove_prefix(3);
  static const std::regex kOffset(R"(^([+-])(\d{1,2})(?::?(\d{2}))?$)");
  std::cmatch m;
  if (!std::regex_match(v.begin(), v.end(), m, kOffset)) {
    return InvalidArgumentError("timezone '" + s +
                                "' is not supported (use UTC or a fixed offset such as +05:30)");
  }
  int64_t hours = std::stoll(m[2].str());
  int64_t minutes = m[3].matched ? std::stoll(m[3].str()) : 0;
  if (hours > 18 || minutes > 59) return InvalidArgumentError("timezone offset out of range: " + s);
  int64_t ms = (hours * 60 + minutes) * 60'000;
  return m[1].str() == "-" ? -ms : ms;
}

Result<TimeZone> LoadSinkTimeZone(std::string_view tz) {
  auto fixed = ParseTimezoneOffsetMs(tz);
  if (fixed.ok()) {
    const int64_t minutes = (*fixed < 0 ? -*fixed : *fixed) / 60'000;
    char text[48];
    std::snprintf(text, sizeof(text), "%c%02lld:%02lld", *fixed < 0 ? '-' : '+',
                  static_cast<long long>(minutes / 60), static_cast<long long>(minutes % 60));
    auto zone = TimeZone::Load(text);
    if (!zone.ok()) return InvalidArgumentError("timezone offset out of range: " + Trim(tz));
    return zone;
  }
  const std::string name = Trim(tz);
  auto zone = TimeZone::Load(name);
  if (!zone.ok()) {
    return InvalidArgumentError("timezone '" + name +
                                "' is not supported (use UTC, a fixed offset such as +05:30, or "
                                "an IANA zone such as America/New_York)");
  }
  return zone;
}

Result<SinkConfig> SinkConfig::FromProperties(const Properties& p) {
  SinkConfig c;
  c.name = StrProp(p, "name", c.name);
  if (c.name.empty()) return InvalidArgumentError("name: must not be empty");
  c.topics = SplitList(StrProp(p, "topics"));
  c.topics_regex = StrProp(p, "topics.regex");
  if (c.topics.empty() == c.topics_regex.empty()) {
    return InvalidArgumentError("exactly one of topics or topics.regex must be set");
  }
  if (!c.topics_regex.empty()) {
    try {
      std::regex check(c.topics_regex, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      return InvalidArgumentError("topics.regex: not a valid regular expression: " +
                                  c.topics_regex);
    }
  }
  c.topics_dir = StrProp(p, "topics.dir", c.topics_dir);
  while (!c.topics_dir.empty() && c.topics_dir.back() == '/') c.topics_dir.pop_back();
  while (!c.topics_dir.empty() && c.topics_dir.front() == '/') c.topics_dir.erase(0, 1);
  if (c.topics_dir.empty()) return InvalidArgumentError("topics.dir: must not be empty");

  if (p.find("flush.size") == p.end()) return InvalidArgumentError("flush.size: required");
  PINPIPE_ASSIGN_OR_RETURN(c.flush_size, IntProp(p, "flush.size", c.flush_size));
  if (c.flush_size < 1) return InvalidArgumentError("flush.size: must be >= 1");
  PINPIPE_ASSIGN_OR_RETURN(int64_t max_poll,
                           IntProp(p, "consumer.override.max.poll.records", c.max_poll_records));
  if (max_poll < 1 || max_poll > 1'000'000) {
    return InvalidArgumentError("consumer.override.max.poll.records: must be in [1, 1000000]");
  }
  c.max_poll_records = static_cast<int32_t>(max_poll);
  PINPIPE_ASSIGN_OR_RETURN(c.rotate_interval_ms, IntProp(p, "rotate.interval.ms", -1));
  PINPIPE_ASSIGN_OR_RETURN(c.rotate_schedule_interval_ms,
                           IntProp(p, "rotate.schedule.interval.ms", -1));
  if (c.rotate_interval_ms == 0 || c.rotate_schedule_interval_ms == 0) {
    return InvalidArgumentError(
        "rotate.interval.ms and rotate.schedule.interval.ms must be > 0 "
        "or -1 (off)");
  }

  c.timezone = StrProp(p, "timezone", "");
  if (c.rotate_schedule_interval_ms > 0 && c.timezone.empty()) {
    return InvalidArgumentError("timezone: required with rotate.schedule.interval.ms");
  }
  if (c.timezone.empty()) c.timezone = "UTC";
  PINPIPE_ASSIGN_OR_RETURN(c.zone, LoadSinkTimeZone(c.timezone));

  std::string partitioner = ShortClass(StrProp(p, "partitioner.class", "DefaultPartitioner"));
  c.path_format = StrProp(p, "path.format");
  PINPIPE_ASSIGN_OR_RETURN(c.partition_duration_ms, IntProp(p, "partition.duration.ms", -1));
  if (partitioner == "DefaultPartitioner" || partitioner == "Default") {
    c.partitioner = PartitionerKind::kDefault;
  } else if (partitioner == "FieldPartitioner" || partitioner == "Field") {
    c.partitioner = PartitionerKind::kField;
    c.partition_fields = SplitList(StrProp(p, "partition.field.name"));
    if (c.partition_fields.empty()) {
      return InvalidArgumentError("partition.field.name: required by FieldPartitioner");
    }
  } else if (partitioner == "TimeBasedPartitioner" || partitioner == "TimeBased" ||
             partitioner == "HourlyPartitioner" || partitioner == "DailyPartitioner") {
    c.partitioner = PartitionerKind::kTimeBased;
    if (partitioner == "HourlyPartitioner") {
      c.path_format = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";
      c.partition_duration_ms = 3'600'000;
    } else if (partitioner == "DailyPartitioner") {
      c.path_format = "'year'=YYYY/'month'=MM/'day'=dd";
      c.partition_duration_ms = 86'400'000;
    }
    if (c.path_format.empty())
      return InvalidArgumentError("path.format: required by TimeBasedPartitioner");
    if (c.partition_duration_ms <= 0) {
      return InvalidArgumentError("partition.duration.ms: required (> 0) by TimeBasedPartitioner");
    }
    std::string extractor = ShortClass(StrProp(p, "timestamp.extractor", "Wallclock"));
    if (extractor == "Wallclock" || extractor == "WallclockTimestampExtractor") {
      c.timestamp_extractor = TimestampExtractorKind::kWallclock;
    } else if (extractor == "Record" || extractor == "RecordTimestampExtractor") {
      c.timestamp_extractor = TimestampExtractorKind::kRecord;
    } else if (extractor == "RecordField" || extractor == "RecordFieldTimestampExtractor") {
      c.timestamp_extractor = TimestampExtractorKind::kRecordField;
      c.timestamp_field = StrProp(p, "timestamp.field");
      if (c.timestamp_field.empty()) {
        return InvalidArgumentError("timestamp.field: required by timestamp.extractor=RecordField");
      }
    } else {
      return InvalidArgumentError("timestamp.extractor: must be Wallclock, Record or RecordField");
    }
  } else {
    return InvalidArgumentError("partitioner.class: unsupported " + partitioner +
                                " (DefaultPartitioner, TimeBasedPartitioner, FieldPartitioner, "
                                "HourlyPartitioner, DailyPartitioner)");
  }
  if (c.rotate_interval_ms > 0 && c.partitioner != PartitionerKind::kTimeBased) {
    // The connector needs a timestamp extractor for record-time rotation;
    // without TimeBased we use the record timestamp.
    c.timestamp_extractor = TimestampExtractorKind::kRecord;
  }

  std::string format = ShortClass(StrProp(p, "format.class", "JsonFormat"));
  if (format != "JsonFormat") {
    return InvalidArgumentError(
        "format.class: only io.confluent.connect.s3.format.json.JsonFormat "
        "is supported");
  }
  std::string compression = StrProp(p, "s3.compression.type", "none");
  if (compression == "none") {
    c.compression = Compression::kNone;
  } else if (compression == "gzip") {
    c.compression = Compression::kGzip;
  } else {
    return InvalidArgumentError("s3.compression.type: must be none or gzip");
  }
  PINPIPE_ASSIGN_OR_RETURN(int64_t level, IntProp(p, "s3.compression.level", -1));
  if (level < -1 || level > 9) return InvalidArgumentError("s3.compression.level: -1..9");
  c.compression_level = static_cast<int>(level);
  PINPIPE_ASSIGN_OR_RETURN(int64_t pad, IntProp(p, "filename.offset.zero.pad.width", 10));
  if (pad < 0 || pad > 20) return InvalidArgumentError("filename.offset.zero.pad.width: 0..20");
  c.offset_zero_pad_width = static_cast<int>(pad);

  c.s3_bucket = StrProp(p, "s3.bucket.name");
  c.s3_region = StrProp(p, "s3.region");
  c.store_url = StrProp(p, "store.url");

  std::string tolerance = StrProp(p, "errors.tolerance", "none");
  if (tolerance == "none") {
    c.errors_tolerance = ErrorTolerance::kNone;
  } else if (tolerance == "all") {
    c.errors_tolerance = ErrorTolerance::kAll;
  } else {
    return InvalidArgumentError("errors.tolerance: must be none or all");
  }
  c.dead_letter_topic = StrProp(p, "errors.deadletterqueue.topic.name");
  std::string nulls = StrProp(p, "behavior.on.null.values", "fail");
  if (nulls == "fail") {
    c.null_values = NullValues::kFail;
  } else if (nulls == "ignore") {
    c.null_values = NullValues::kIgnore;
  } else {
    return InvalidArgumentError("behavior.on.null.values: must be fail or ignore");
  }
  std::string schemas = StrProp(p, "value.converter.schemas.enable", "false");
  if (schemas == "true") {
    return InvalidArgumentError(
        "value.converter.schemas.enable=true is not supported (records are schemaless JSON)");
  }
  return c;
}

Result<SinkConfig> SinkConfig::FromPinpipeConfig(const Config& config,
                                                 const std::vector<std::string>& more_prefixes) {
  const std::string& file = config.Get("sink.config");
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return NotFoundError("sink.config: cannot read " + file);
    std::stringstream buf;
    buf << in.rdbuf();
    PINPIPE_ASSIGN_OR_RETURN(Properties props, ParseProperties(buf.str()));
    auto c = FromProperties(props);
    if (!c.ok()) return c.status().WithContext(file);
    return c;
  }
  // The seed's connector, expressed with pinpipe's keys.
  Properties p;
  p["name"] = "pinpipe-sink";
  std::vector<std::string> prefixes = {config.Get("general.prefix")};
  prefixes.insert(prefixes.end(), more_prefixes.begin(), more_prefixes.end());
  std::string escaped;
  for (const auto& prefix : prefixes) {
    escaped += escaped.empty() ? "" : "|";
    for (char ch : prefix) {
      if (std::string_view(".^$|()[]{}*+?\\").find(ch) != std::string_view::npos) escaped += '\\';
      escaped += ch;
    }
  }
  p["topics.regex"] = prefixes.size() == 1 ? escaped + "\\..*" : "(" + escaped + ")\\..*";
  p["flush.size"] = config.Get("sink.flush_size");
  std::string rotate = config.Get("sink.rotate_schedule_interval_ms");
  if (!rotate.empty() && rotate != "0" && rotate != "-1") {
    PINPIPE_ASSIGN_OR_RETURN(int64_t ms, config.GetMillis("sink.rotate_schedule_interval_ms"));
    p["rotate.schedule.interval.ms"] = std::to_string(ms);
    p["timezone"] = "UTC";
  }
  return FromProperties(p);
}

}  // namespace pinpipe::sink
