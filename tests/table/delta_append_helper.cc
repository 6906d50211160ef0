// A pinpipe Delta writer for the concurrent-append peer test
// (tests/spark/delta_concurrent_test.py): appends one-row batches to a table
// that delta-rs appends to at the same time.
//
//   delta_append_helper <table folder> <writer id> <appends>
//
// Creates the table (ind long, writer string) unless it exists, then commits
// `appends` appends, each of the row (writer id * 1,000,000 + i, "pinpipe-<id>").
// Prints "versions v1 v2 ..." and "attempts N" (commit attempts over all
// appends); exits 1 with the error on the first failed append.
#include <cstdlib>
#include <iostream>
#include <string>

#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/table/delta_table.h"

int main(int argc, char** argv) {
  using namespace pinpipe;
  if (argc != 4) {
    std::cerr << "usage: delta_append_helper <table folder> <writer id> <appends>\n";
    return 2;
  }
  const int64_t id = std::atoll(argv[2]);
  const int appends = std::atoi(argv[3]);
  auto store = objstore::LocalObjectStore::Open(argv[1]);
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    return 1;
  }
  table::Schema schema{
      {{"ind", table::ColumnType::kInt64}, {"writer", table::ColumnType::kString}}};
  table::DeltaTable t(**store, "");
  if (Status st = t.CreateIfAbsent(schema); !st.ok()) {
    std::cerr << "create: " << st.ToString() << "\n";
    return 1;
  }
  int attempts = 0;
  std::cout << "versions";
  for (int i = 0; i < appends; ++i) {
    table::RecordBatch b(schema);
    b.columns[0].AppendInt64(id * 1'000'000 + i);
    b.columns[1].AppendString("pinpipe-" + std::to_string(id));
    auto r = t.Append(b);
    if (!r.ok()) {
      std::cerr << "append " << i << ": " << r.status().ToString() << "\n";
      return 1;
    }
    attempts += r->attempts;
    std::cout << " " << r->version;
  }
  std::cout << "\nattempts " << attempts << "\n";
  return 0;
}
