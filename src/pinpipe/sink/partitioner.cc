#include "pinpipe/sink/partitioner.h"

#include <simdjson.h>

#include <cstdio>
#include <ctime>

#include "pinpipe/base/datetime.h"
#include "pinpipe/objstore/key.h"

namespace pinpipe::sink {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string Pad(int64_t v, int width) {
  std::string s = std::to_string(v < 0 ? -v : v);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<size_t>(width) - s.size(), '0');
  return v < 0 ? "-" + s : s;
}

// Local milliseconds (civil time read as if UTC) -> the UTC instant in `zone`.
int64_t LocalToUtcMs(const TimeZone& zone, int64_t local_ms) {
  const int64_t days = FloorDiv(local_ms, 86'400'000);
  const int64_t ms_of_day = local_ms - days * 86'400'000;
  CivilTime civil;
  CivilFromDays(days, &civil.year, &civil.month, &civil.day);
  civil.hour = static_cast<int>(ms_of_day / 3'600'000);
  civil.minute = static_cast<int>(ms_of_day / 60'000 % 60);
  civil.second = static_cast<int>(ms_of_day / 1000 % 60);
  return zone.FromCivil(civil) * 1000 + ms_of_day % 1000;
}

// Finds a (possibly dotted) field in an object.
Result<simdjson::dom::element> FindField(const simdjson::dom::element& value,
                                         std::string_view path) {
  simdjson::dom::element current = value;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) dot = path.size();
    std::string_view name = path.substr(start, dot - start);
    simdjson::dom::object object;
    if (current.get_object().get(object) != simdjson::SUCCESS) {
      return InvalidArgumentError("record value is not a JSON object (looking for '" +
                                  std::string(path) + "')");
    }
    if (object[name].get(current) != simdjson::SUCCESS) {
      return InvalidArgumentError("record value has no field '" + std::string(path) + "'");
    }
    start = dot + 1;
  }
  return current;
}

}  // namespace

Result<PathFormat> PathFormat::Compile(std::string_view pattern) {
  PathFormat f;
  size_t i = 0;
  while (i < pattern.size()) {
    char c = pattern[i];
    if (c == '\'') {
      // Quoted literal; '' is a single quote.
      size_t j = i + 1;
      std::string lit;
      if (j < pattern.size() && pattern[j] == '\'') {
        f.tokens_.push_back({0, 0, "'"});
        i = j + 1;
        continue;
      }
      while (true) {
        if (j >= pattern.size()) return InvalidArgumentError("path.format: unterminated quote");
        if (pattern[j] == '\'') {
          if (j + 1 < pattern.size() && pattern[j + 1] == '\'') {
            lit.push_back('\'');
            j += 2;
            continue;
          }
          break;
        }
        lit.push_back(pattern[j++]);
      }
      f.tokens_.push_back({0, 0, lit});
      i = j + 1;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      size_t j = i;
      while (j < pattern.size() && pattern[j] == c) ++j;
      char field = c == 'Y' ? 'y' : c;
      if (std::string_view("yMdHmsSD").find(field) == std::string_view::npos) {
        return InvalidArgumentError(std::string("path.format: unsupported pattern letter '") + c +
                                    "' (use quotes for literal text)");
      }
      f.tokens_.push_back({field, static_cast<int>(j - i), ""});
      i = j;
    } else {
      f.tokens_.push_back({0, 0, std::string(1, c)});
      ++i;
    }
  }
  return f;
}

std::string PathFormat::Format(int64_t epoch_ms, int64_t offset_ms) const {
  int64_t local = epoch_ms + offset_ms;
  int64_t days = FloorDiv(local, 86'400'000);
  int64_t ms_of_day = local - days * 86'400'000;
  int y, m, d;
  CivilFromDays(days, &y, &m, &d);
  std::string out;
  for (const Token& t : tokens_) {
    switch (t.field) {
      case 0:
        out += t.literal;
        break;
      case 'y':
        out += t.width == 2 ? Pad(((y % 100) + 100) % 100, 2) : Pad(y, t.width);
        break;
      case 'M':
        out += Pad(m, t.width);
        break;
      case 'd':
        out += Pad(d, t.width);
        break;
      case 'D':
        out += Pad(days - DaysFromCivil(y, 1, 1) + 1, t.width);
        break;
      case 'H':
        out += Pad(ms_of_day / 3'600'000, t.width);
        break;
      case 'm':
        out += Pad((ms_of_day / 60'000) % 60, t.width);
        break;
      case 's':
        out += Pad((ms_of_day / 1000) % 60, t.width);
        break;
      case 'S':
        out += Pad(ms_of_day % 1000, t.width);
        break;
    }
  }
  return out;
}

Result<int64_t> ParseTimestampText(std::string_view text) {
  auto micros = ParseTimestampMicros(text, {.date_alone = true, .short_offsets = true});
  if (!micros) return InvalidArgumentError("not a timestamp: '" + std::string(text) + "'");
  return FloorDiv(*micros, 1000);
}

Result<std::unique_ptr<Partitioner>> Partitioner::Create(const SinkConfig& config) {
  std::unique_ptr<Partitioner> p(new Partitioner(config));
  if (config.partitioner == PartitionerKind::kTimeBased) {
    PINPIPE_ASSIGN_OR_RETURN(PathFormat f, PathFormat::Compile(config.path_format));
    p->format_ = std::move(f);
  }
  return p;
}

Result<int64_t> Partitioner::ExtractTimestamp(const broker::RecordRef& record,
                                              const simdjson::dom::element* value,
                                              int64_t now_ms) const {
  switch (config_.timestamp_extractor) {
    case TimestampExtractorKind::kWallclock:
      return now_ms;
    case TimestampExtractorKind::kRecord:
      return record.timestamp_ms;
    case TimestampExtractorKind::kRecordField: {
      if (value == nullptr) return InvalidArgumentError("null record has no timestamp field");
      PINPIPE_ASSIGN_OR_RETURN(simdjson::dom::element field,
                               FindField(*value, config_.timestamp_field));
      int64_t i;
      double dbl;
      uint64_t u;
      std::string_view s;
      if (field.get_int64().get(i) == simdjson::SUCCESS) return i;
      if (field.get_uint64().get(u) == simdjson::SUCCESS) return static_cast<int64_t>(u);
      if (field.get_double().get(dbl) == simdjson::SUCCESS) return static_cast<int64_t>(dbl);
      if (field.get_string().get(s) == simdjson::SUCCESS) return ParseTimestampText(s);
      return InvalidArgumentError("timestamp field '" + config_.timestamp_field +
                                  "' is neither a number nor a timestamp string");
    }
  }
  return InternalError("unknown timestamp extractor");
}

Result<std::string> Partitioner::Encode(const broker::RecordRef& record,
                                        const simdjson::dom::element* value, int64_t now_ms) const {
  switch (config_.partitioner) {
    case PartitionerKind::kDefault:
      return "partition=" + std::to_string(record.partition);
    case PartitionerKind::kField: {
      if (value == nullptr) return InvalidArgumentError("null record cannot be field-partitioned");
      std::string out;
      for (const auto& name : config_.partition_fields) {
        PINPIPE_ASSIGN_OR_RETURN(simdjson::dom::element field, FindField(*value, name));
        std::string text;
        std::string_view s;
        int64_t i;
        uint64_t u;
        bool b;
        if (field.get_string().get(s) == simdjson::SUCCESS) {
          text = std::string(s);
        } else if (field.get_int64().get(i) == simdjson::SUCCESS) {
          text = std::to_string(i);
        } else if (field.get_uint64().get(u) == simdjson::SUCCESS) {
          text = std::to_string(u);
        } else if (field.get_bool().get(b) == simdjson::SUCCESS) {
          text = b ? "true" : "false";
        } else {
          return InvalidArgumentError("partition field '" + name +
                                      "' must be a string, integer or boolean");
        }
        if (!out.empty()) out += "/";
        out += name + "=" + text;
      }
      // The value becomes part of an object key: it must not escape or be ambiguous.
      if (!objstore::ValidateKey(out).ok()) {
        return InvalidArgumentError("partition field value makes an invalid path: " + out);
      }
      return out;
    }
    case PartitionerKind::kTimeBased: {
      PINPIPE_ASSIGN_OR_RETURN(int64_t ts, ExtractTimestamp(record, value, now_ms));
      const int64_t bucket = TimeBucket(ts, config_.partition_duration_ms, config_.zone);
      return format_->Format(bucket, ZoneOffsetMs(config_.zone, bucket));
    }
  }
  return InternalError("unknown partitioner");
}

int64_t ZoneOffsetMs(const TimeZone& zone, int64_t utc_ms) {
  return zone.OffsetAt(FloorDiv(utc_ms, 1000)) * 1000;
}

int64_t TimeBucket(int64_t ts_ms, int64_t duration_ms, const TimeZone& zone) {
  const int64_t local = ts_ms + ZoneOffsetMs(zone, ts_ms);
  return LocalToUtcMs(zone, FloorDiv(local, duration_ms) * duration_ms);
}

int64_t NextScheduledRotation(int64_t now_ms, int64_t interval_ms, const TimeZone& zone) {
  const int64_t local = now_ms + ZoneOffsetMs(zone, now_ms);
  const int64_t start_of_day = LocalToUtcMs(zone, FloorDiv(local, 86'400'000) * 86'400'000);
  return start_of_day + FloorDiv(now_ms - start_of_day, interval_ms) * interval_ms + interval_ms;
}

std::string ObjectKey(const SinkConfig& config, std::string_view topic, int32_t partition,
                      std::string_view encoded_partition, int64_t start_offset) {
  std::string offset = std::to_string(start_offset);
  if (static_cast<int>(offset.size()) < config.offset_zero_pad_width) {
    offset.insert(0, static_cast<size_t>(config.offset_zero_pad_width) - offset.size(), '0');
  }
  std::string key;
  key.reserve(config.topics_dir.size() + 2 * topic.size() + encoded_partition.size() + 40);
  key += config.topics_dir;
  key += '/';
  key += topic;
  key += '/';
  key += encoded_partition;
  key += '/';
  key += topic;
  key += '+';
  key += std::to_string(partition);
  key += '+';
  key += offset;
  key += config.extension();
  return key;
}

}  // namespace pinpipe::sink
