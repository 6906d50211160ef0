// gzip (RFC 1952) compression of whole buffers on zlib, for the sink's
// `.json.gz` objects, the batch job's reader of them and `pinpipe lake cat`.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pinpipe/base/status.h"

namespace pinpipe {

// One gzip member holding `data`, at zlib `level` (-1 = zlib's default, 0-9).
// Deterministic: the same input and level give the same bytes (no name, no
// modification time in the header). InvalidArgument for a level out of range.
Result<std::string> Gzip(std::string_view data, int level = -1);

// The data of every gzip member in `compressed`, concatenated, as gzip(1)
// reads a file of several members (RFC 1952 §2.2). A zlib (RFC 1950) stream
// is accepted too. Empty input gives empty output. DataLoss, with zlib's
// reason, when a member is corrupt (bad header, bad deflate data, CRC or
// length mismatch), truncated, or followed by bytes that are not a member;
// ResourceExhausted when the output would exceed `max_output` bytes (a bound
// for input from the network, against decompression bombs).
Result<std::string> Gunzip(std::string_view compressed, size_t max_output = SIZE_MAX);

}  // namespace pinpipe
