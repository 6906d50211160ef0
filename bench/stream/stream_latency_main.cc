// stream_latency: posts pin records at a fixed rate (open loop) through the
// API Gateway PutRecords route, remembering when each record's request was
// sent, then reads the Delta table's log: the latency of a record is the
// commitInfo timestamp of the version that added the file holding its ind,
// minus its send time. Prints one JSON object.
//
//   stream_latency --url http://127.0.0.1:8082 --stream streaming-b-pin
//                  --table /tmp/tables/b_pin_table --rate 10000 --seconds 10
//                  [--senders 4] [--first-index 0] [--wait-seconds 30]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pinpipe/http/client.h"
#include "pinpipe/model/rows.h"
#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/source/generator.h"
#include "pinpipe/table/delta_table.h"
#include "pinpipe/table/parquet_reader.h"

namespace {

using namespace pinpipe;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string url = "http://127.0.0.1:8082";
  std::string stream;
  std::string table;
  double rate = 1000;
  double seconds = 10;
  int senders = 4;
  int64_t first_index = 0;
  double wait_seconds = 30;
};

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "stream_latency: %s\n", what.c_str());
  std::exit(1);
}

// Every committed version's timestamp for each ind it added.
std::unordered_map<int64_t, int64_t> CommitTimes(objstore::ObjectStore& store, int64_t* version) {
  table::DeltaTable t(store, "");
  auto snap = t.Load();
  if (!snap.ok()) Die("load table: " + snap.status().ToString());
  *version = snap->version;
  std::unordered_map<int64_t, int64_t> out;
  for (int64_t v = 0; v <= snap->version; ++v) {
    auto text = store.Get("_delta_log/" + table::DeltaVersionName(v) + ".json");
    if (!text.ok()) Die("read version " + std::to_string(v) + ": " + text.status().ToString());
    int64_t ts = 0;
    std::vector<std::string> paths;
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      auto j = nlohmann::json::parse(text->substr(start, end - start), nullptr, false);
      start = end + 1;
      if (j.is_discarded()) continue;
      if (j.contains("commitInfo")) ts = j["commitInfo"].value("timestamp", int64_t{0});
      if (j.contains("add")) paths.push_back(j["add"].value("path", ""));
    }
    for (const auto& p : paths) {
      auto bytes = store.Get(p);
      if (!bytes.ok()) Die("read " + p + ": " + bytes.status().ToString());
      auto file = table::ParquetFile::Open(std::move(*bytes));
      if (!file.ok()) Die("open " + p + ": " + file.status().ToString());
      for (int rg = 0; rg < file->num_row_groups(); ++rg) {
        auto leaf = file->ReadLeaf(rg, 0);  // ind, the first column
        if (!leaf.ok()) Die("read ind of " + p + ": " + leaf.status().ToString());
        for (int64_t ind : leaf->i64) out.emplace(ind, ts);
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url")
      o.url = v;
    else if (k == "--stream")
      o.stream = v;
    else if (k == "--table")
      o.table = v;
    else if (k == "--rate")
      o.rate = std::atof(v.c_str());
    else if (k == "--seconds")
      o.seconds = std::atof(v.c_str());
    else if (k == "--senders")
      o.senders = std::atoi(v.c_str());
    else if (k == "--first-index")
      o.first_index = std::atoll(v.c_str());
    else if (k == "--wait-seconds")
      o.wait_seconds = std::atof(v.c_str());
    else
      Die("unknown flag " + k);
  }
  if (o.stream.empty() || o.table.empty() || o.rate <= 0 || o.senders < 1) {
    Die("usage: --stream NAME --table DIR --rate N --seconds S [--url U] [--senders K]");
  }
  // Each sender posts a batch every tick; batches carry rate * tick records.
  const double tick_s = 0.01 * o.senders;
  const int64_t per_batch = std::max<int64_t>(1, static_cast<int64_t>(o.rate * tick_s / o.senders));
  const int64_t ticks = static_cast<int64_t>(o.seconds / tick_s);
  const int64_t total = ticks * per_batch * o.senders;
  source::Generator gen(source::kDefaultSeed, o.first_index + total);

  std::vector<int64_t> sent_ms(static_cast<size_t>(total), 0);
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> late_ticks{0};
  const auto t0 = SteadyClock::now();
  std::vector<std::thread> senders;
  for (int s = 0; s < o.senders; ++s) {
    senders.emplace_back([&, s] {
      auto client = http::Client::Create(o.url);
      if (!client.ok()) Die("client: " + client.status().ToString());
      model::PinRow pin;
      model::GeoRow geo;
      model::UserRow user;
      for (int64_t k = 0; k < ticks; ++k) {
        // Sender s owns the slice s of every tick, offset so sends spread out.
        const auto due =
            t0 + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(
                     (static_cast<double>(k) + static_cast<double>(s) / o.senders) * tick_s));
        if (SteadyClock::now() > due + std::chrono::milliseconds(50)) ++late_ticks;
        std::this_thread::sleep_until(due);
        nlohmann::json records = nlohmann::json::array();
        const int64_t first = (k * o.senders + s) * per_batch;
        for (int64_t r = 0; r < per_batch; ++r) {
          gen.Post(o.first_index + first + r, &pin, &geo, &user);
          records.push_back(
              {{"data", model::ToJson(pin)}, {"partition-key", std::to_string(pin.index)}});
        }
        const std::string body = nlohmann::json{{"records", records}}.dump();
        const int64_t now_ms = WallMillis();
        for (int64_t r = 0; r < per_batch; ++r) sent_ms[static_cast<size_t>(first + r)] = now_ms;
        auto res = (*client)->Send("PUT", "/streams/" + o.stream + "/records",
                                   {{"Content-Type", "application/json"}}, body);
        if (!res.ok() || res->status != 200 ||
            res->body.find("\"FailedRecordCount\":0") == std::string::npos) {
          failed += per_batch;
        }
      }
    });
  }
  for (auto& t : senders) t.join();
  const double send_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();

  auto store = objstore::LocalObjectStore::Open(o.table);
  if (!store.ok()) Die("open table folder: " + store.status().ToString());
  // Wait until every sent ind is in the table (or the wait runs out).
  std::unordered_map<int64_t, int64_t> committed;
  int64_t version = -1;
  const auto wait_until = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                   std::chrono::duration<double>(o.wait_seconds));
  while (true) {
    committed = CommitTimes(**store, &version);
    int64_t present = 0;
    for (int64_t i = 0; i < total; ++i) present += committed.count(o.first_index + i);
    if (present == total || SteadyClock::now() > wait_until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(total));
  int64_t missing = 0;
  for (int64_t i = 0; i < total; ++i) {
    auto it = committed.find(o.first_index + i);
    if (it == committed.end()) {
      ++missing;
      continue;
    }
    lat.push_back(static_cast<double>(it->second - sent_ms[static_cast<size_t>(i)]));
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    if (lat.empty()) return 0.0;
    return lat[std::min(lat.size() - 1, static_cast<size_t>(p * static_cast<double>(lat.size())))];
  };
  std::printf(
      "{\"rate\":%.0f,\"achieved_rate\":%.0f,\"seconds\":%.1f,\"sent\":%lld,\"failed\":%lld,"
      "\"late_ticks\":%lld,\"committed\":%zu,\"missing\":%lld,\"table_version\":%lld,"
      "\"p50_ms\":%.0f,\"p99_ms\":%.0f,\"max_ms\":%.0f}\n",
      o.rate, static_cast<double>(total) / send_s, send_s, static_cast<long long>(total),
      static_cast<long long>(failed.load()), static_cast<long long>(late_ticks.load()), lat.size(),
      static_cast<long long>(missing), static_cast<long long>(version), pct(0.5), pct(0.99),
      lat.empty() ? 0.0 : lat.back());
  return missing == 0 && failed.load() == 0 ? 0 : 2;
}
