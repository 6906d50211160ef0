// A minimal, namespace-agnostic XML reader for S3 responses.
//
// S3 responses (ListBucketResult, Error, InitiateMultipartUploadResult) are
// small and flat. Elements are matched by their local name, so a prefix
// ("s3:Key") or a different default namespace (s3rver's) makes no difference.
// Not a general XML parser: no DTDs, CDATA is returned raw.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pinpipe::objstore::xml {

// The raw inner text of every element named `local_name` directly or deeply
// inside `doc`, in document order (nested same-name elements are not split).
std::vector<std::string_view> Elements(std::string_view doc, std::string_view local_name);

// The decoded text of the first element named `local_name`, if any.
std::optional<std::string> Text(std::string_view doc, std::string_view local_name);

// Replaces the five predefined entities and numeric character references.
std::string Unescape(std::string_view text);

// Escapes text for an element body (&, <, >).
std::string Escape(std::string_view text);

}  // namespace pinpipe::objstore::xml
