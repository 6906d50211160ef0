// table_bench OUT_DIR ROWS: generates a pin-like table (the cleaned pin
// table's 11 columns), writes OUT_DIR/source.parquet (uncompressed, the input
// DuckDB loads), then measures ParquetWriter on one thread for snappy and zstd
// (best of 3, including writing the file) and prints one JSON object. Times
// are process CPU seconds (the machine is shared; wall time would measure the
// neighbours), which is the per-core cost.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "pinpipe/stream/rows.h"
#include "pinpipe/table/parquet_writer.h"

using pinpipe::table::Codec;
using pinpipe::table::ColumnType;
using pinpipe::table::RecordBatch;
using pinpipe::table::Schema;
using pinpipe::table::WriterOptions;

namespace {

RecordBatch PinRows(size_t rows) {
  // The cleaned pin table exactly as the streaming job writes it.
  Schema schema = pinpipe::stream::CleanedSchema(pinpipe::clean::TableKind::kPin);
  const char* cats[] = {"art",          "beauty",         "christmas", "diy-and-crafts",
                        "education",    "event-planning", "finance",   "home-decor",
                        "mens-fashion", "quotes",         "tattoos",   "travel",
                        "vehicles"};
  const char* words[] = {"easy",   "ideas",  "home",      "diy",     "best",   "modern",
                         "living", "room",   "christmas", "gift",    "art",    "design",
                         "simple", "small",  "kitchen",   "wedding", "quotes", "summer",
                         "outfit", "travel", "tips",      "paint"};
  std::mt19937_64 rng(12345);
  RecordBatch b(schema);
  for (auto& c : b.columns) c.Reserve(rows);
  auto text = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
      if (i) s += ' ';
      s += words[rng() % 22];
    }
    return s;
  };
  char buf[64];
  for (size_t r = 0; r < rows; ++r) {
    b.columns[0].AppendInt64(static_cast<int64_t>(r));
    uint64_t a = rng(), c = rng();
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>(a >> 16) & 0xffff, static_cast<unsigned>(a) & 0xffff,
                  static_cast<unsigned>(c >> 48),
                  static_cast<unsigned long long>(c & 0xffffffffffffull));
    b.columns[1].AppendString(buf);
    if (rng() % 20 == 0) {
      b.columns[2].AppendNull();
    } else {
      b.columns[2].AppendString(text(3 + static_cast<int>(rng() % 8)));
    }
    if (rng() % 10 == 0) {
      b.columns[3].AppendNull();
    } else {
      b.columns[3].AppendString(text(10 + static_cast<int>(rng() % 30)));
    }
    if (rng() % 30 == 0) {
      b.columns[4].AppendNull();
    } else {
      b.columns[4].AppendInt64(static_cast<int64_t>(rng() % 1'000'000));
    }
    b.columns[5].AppendString("poster " + std::to_string(rng() % 3000));
    b.columns[6].AppendString(text(4) + "," + text(3));
    b.columns[7].AppendString(rng() % 5 ? "image" : "video");
    b.columns[8].AppendString("https://i.pinimg.com/originals/" + std::to_string(rng()) + ".jpg");
    const char* cat = cats[rng() % 13];
    b.columns[9].AppendString(std::string("/data/") + cat);
    b.columns[10].AppendString(cat);
  }
  return b;
}

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double WriteSeconds(const RecordBatch& b, const WriterOptions& o, const std::string& path,
                    size_t* bytes) {
  double best = 1e9;
  for (int run = 0; run < 3; ++run) {
    double t0 = CpuSeconds();
    auto file = pinpipe::table::WriteParquet(b, o);
    if (!file.ok()) {
      std::cerr << file.status().ToString() << "\n";
      std::exit(1);
    }
    std::ofstream(path, std::ios::binary)
        .write(file->data(), static_cast<std::streamsize>(file->size()));
    double s = CpuSeconds() - t0;
    best = std::min(best, s);
    *bytes = file->size();
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: table_bench OUT_DIR ROWS\n";
    return 2;
  }
  std::string dir = argv[1];
  size_t rows = std::stoul(argv[2]);
  RecordBatch b = PinRows(rows);
  size_t data_bytes = 0;  // the logical size: string bytes + 8 per integer value
  for (const auto& c : b.columns) {
    data_bytes +=
        c.type() == ColumnType::kString ? c.bytes().size() : 8 * (c.size() - c.null_count());
  }
  WriterOptions plain;
  plain.codec = Codec::kUncompressed;
  size_t source_bytes = 0;
  WriteSeconds(b, plain, dir + "/source.parquet", &source_bytes);
  WriterOptions snappy;
  size_t snappy_bytes = 0, zstd_bytes = 0;
  double snappy_s = WriteSeconds(b, snappy, dir + "/pinpipe.snappy.parquet", &snappy_bytes);
  WriterOptions zstd;
  zstd.codec = Codec::kZstd;
  double zstd_s = WriteSeconds(b, zstd, dir + "/pinpipe.zstd.parquet", &zstd_bytes);
  std::cout << "{\"rows\":" << rows << ",\"data_bytes\":" << data_bytes
            << ",\"snappy\":{\"seconds\":" << snappy_s << ",\"bytes\":" << snappy_bytes
            << "},\"zstd\":{\"seconds\":" << zstd_s << ",\"bytes\":" << zstd_bytes << "}}\n";
  return 0;
}
