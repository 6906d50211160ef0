// Percent-encoding (RFC 3986 §2.1) as the S3 client, SigV4 signing and
// verification, the HTTP server's query strings and source URLs use it.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "pinpipe/base/status.h"

namespace pinpipe {

// AWS's UriEncode for Signature Version 4 and S3 paths: every byte except
// the unreserved A-Z a-z 0-9 '-' '_' '.' '~' becomes %XX with upper-case hex
// (so ' ' is %20, never '+', and UTF-8 is encoded byte by byte); '/' is kept
// when `keep_slash` (object key paths) and encoded otherwise (query names
// and values).
std::string UriEncode(std::string_view text, bool keep_slash);

// Decodes %XX escapes (either case of hex); every other byte, '+' included,
// stays as it is. InvalidArgument for a '%' not followed by two hex digits.
Result<std::string> PercentDecode(std::string_view text);

}  // namespace pinpipe
