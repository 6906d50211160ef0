// DeltaTableWriter: the streaming job's TableWriter on a Delta Lake table
// (table::DeltaTable), creating the table with the cleaned schema on first use.
#pragma once

#include <memory>
#include <string>

#include "pinpipe/clean/cleaner.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/stream/query.h"
#include "pinpipe/table/delta_table.h"

namespace pinpipe::stream {

// `store` (and `clock`, nullptr: Clock::Real()) must outlive the writer;
// `root` is the table's key prefix ("<prefix>_pin_table/").
Result<std::unique_ptr<TableWriter>> NewDeltaTableWriter(objstore::ObjectStore& store,
                                                         std::string root, clean::TableKind kind,
                                                         Clock* clock,
                                                         table::DeltaOptions options = {});

}  // namespace pinpipe::stream
