#include "pinpipe/stream/delta_writer.h"

#include "pinpipe/stream/rows.h"
#include "pinpipe/table/parquet_reader.h"

namespace pinpipe::stream {
namespace {

class DeltaTableWriter final : public TableWriter {
 public:
  DeltaTableWriter(objstore::ObjectStore& store, std::string root, Clock* clock,
                   table::DeltaOptions options)
      : store_(&store), table_(store, std::move(root), clock, std::move(options)) {}

  Status Init(clean::TableKind kind) {
    std::string name = table_.root();
    while (!name.empty() && name.back() == '/') name.pop_back();
    if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
    PINPIPE_RETURN_IF_ERROR(table_.CreateIfAbsent(CleanedSchema(kind), name));
    PINPIPE_ASSIGN_OR_RETURN(auto snapshot, table_.Load());
    version_ = snapshot.version;
    return Status::Ok();
  }

  Result<int64_t> TxnVersion(const std::string& app_id) override {
    PINPIPE_ASSIGN_OR_RETURN(auto v, table_.LatestTxnVersion(app_id));
    return v.value_or(-1);
  }

  Status Append(const table::RecordBatch& rows, const std::string& app_id,
                int64_t version) override {
    table::AppendOptions options;
    options.app_id = app_id;
    options.txn_version = version;
    options.operation = "STREAMING UPDATE";
    PINPIPE_ASSIGN_OR_RETURN(auto result, table_.Append(rows, options));
    version_ = result.version;
    return Status::Ok();
  }

  // The ind column (the first leaf) of every active data file.
  Result<std::vector<int64_t>> ReadInds() override {
    PINPIPE_ASSIGN_OR_RETURN(auto snapshot, table_.Load());
    version_ = snapshot.version;
    std::vector<int64_t> inds;
    inds.reserve(static_cast<size_t>(std::max<int64_t>(0, snapshot.NumRecords())));
    for (const auto& [path, add] : snapshot.files) {
      PINPIPE_ASSIGN_OR_RETURN(auto bytes, store_->Get(table_.Key(path)));
      PINPIPE_ASSIGN_OR_RETURN(auto file, table::ParquetFile::Open(std::move(bytes)));
      for (int rg = 0; rg < file.num_row_groups(); ++rg) {
        PINPIPE_ASSIGN_OR_RETURN(auto leaf, file.ReadLeaf(rg, 0));
        inds.insert(inds.end(), leaf.i64.begin(), leaf.i64.end());
      }
    }
    return inds;
  }

  int64_t version() const override { return version_; }

 private:
  objstore::ObjectStore* store_;
  table::DeltaTable table_;
  int64_t version_ = -1;
};

}  // namespace

Result<std::unique_ptr<TableWriter>> NewDeltaTableWriter(objstore::ObjectStore& store,
                                                         std::string root, clean::TableKind kind,
                                                         Clock* clock,
                                                         table::DeltaOptions options) {
  auto writer =
      std::make_unique<DeltaTableWriter>(store, std::move(root), clock, std::move(options));
  PINPIPE_RETURN_IF_ERROR(writer->Init(kind));
  return std::unique_ptr<TableWriter>(std::move(writer));
}

}  // namespace pinpipe::stream
