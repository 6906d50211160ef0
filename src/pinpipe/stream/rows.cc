#include "pinpipe/stream/rows.h"

#include "pinpipe/clean/rules.h"

namespace pinpipe::stream {
namespace {

void AppendOptString(table::Column& c, const std::optional<std::string_view>& v) {
  if (v)
    c.AppendString(*v);
  else
    c.AppendNull();
}

void AppendOptInt64(table::Column& c, const std::optional<int64_t>& v) {
  if (v)
    c.AppendInt64(*v);
  else
    c.AppendNull();
}

std::string Cut(std::string_view s) { return std::string(s.substr(0, 1000)); }

}  // namespace

CleanResult CleanRecords(clean::TableKind kind, const std::vector<RecordRef>& records,
                         const std::unordered_set<int64_t>& seen) {
  CleanResult out;
  out.rows = table::RecordBatch(CleanedSchema(kind));
  auto& cols = out.rows.columns;
  std::unordered_set<int64_t> batch_seen;
  clean::RecordCleaner cleaner;
  auto reject = [&](const RecordRef& r, std::string reason, bool kept) {
    clean::Reject rej;
    rej.table = kind;
    rej.source = std::string(r.source);
    rej.position = r.position;
    rej.reason = std::move(reason);
    rej.record = Cut(r.data);
    rej.row_kept = kept;
    out.rejects.push_back(std::move(rej));
    if (!kept) ++out.rejected;
  };
  auto first_time = [&](int64_t ind) {
    if (seen.count(ind) || !batch_seen.insert(ind).second) {
      ++out.duplicates;
      return false;
    }
    out.new_inds.push_back(ind);
    return true;
  };
  for (const auto& r : records) {
    switch (kind) {
      case clean::TableKind::kPin: {
        clean::PinRow row;
        if (Status s = cleaner.CleanPin(r.data, &row); !s.ok()) {
          reject(r, s.message(), false);
          continue;
        }
        if (row.follower_count_rejected)
          reject(r, std::string(clean::reasons::kFollowerCount), true);
        if (!first_time(row.ind)) continue;
        cols[0].AppendInt64(row.ind);
        AppendOptString(cols[1], row.unique_id);
        AppendOptString(cols[2], row.title);
        AppendOptString(cols[3], row.description);
        AppendOptInt64(cols[4], row.follower_count);
        AppendOptString(cols[5], row.poster_name);
        AppendOptString(cols[6], row.tag_list);
        AppendOptString(cols[7], row.is_image_or_video);
        AppendOptString(cols[8], row.image_src);
        AppendOptString(cols[9], row.save_location);
        AppendOptString(cols[10], row.category);
        break;
      }
      case clean::TableKind::kGeo: {
        clean::GeoRow row;
        if (Status s = cleaner.CleanGeo(r.data, &row); !s.ok()) {
          reject(r, s.message(), false);
          continue;
        }
        if (!first_time(row.ind)) continue;
        cols[0].AppendInt64(row.ind);
        AppendOptString(cols[1], row.country);
        if (row.has_coordinates()) {
          const std::optional<double> pair[2] = {row.latitude, row.longitude};
          cols[2].AppendListWithNulls(pair);
        } else {
          cols[2].AppendNull();
        }
        AppendOptInt64(cols[3], row.timestamp);
        break;
      }
      case clean::TableKind::kUser: {
        clean::UserRow row;
        if (Status s = cleaner.CleanUser(r.data, &row); !s.ok()) {
          reject(r, s.message(), false);
          continue;
        }
        if (!first_time(row.ind)) continue;
        cols[0].AppendInt64(row.ind);
        AppendOptString(cols[1], row.user_name);
        if (row.age)
          cols[2].AppendInt32(static_cast<int32_t>(*row.age));
        else
          cols[2].AppendNull();
        AppendOptInt64(cols[3], row.date_joined);
        break;
      }
    }
  }
  return out;
}

}  // namespace pinpipe::stream
