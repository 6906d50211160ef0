// Internal to the source module: the word lists the generator draws from.
// Countries are the Faker-style names the original data used.
#pragma once

#include <span>
#include <string_view>

namespace pinpipe::source::internal {

std::span<const std::string_view> Countries();
std::span<const std::string_view> FirstNames();
std::span<const std::string_view> LastNames();
std::span<const std::string_view> Categories();
// Words of one category's titles and tags (index into Categories()).
std::span<const std::string_view> CategoryNouns(size_t category);
std::span<const std::string_view> Adjectives();
std::span<const std::string_view> FillerWords();
std::span<const std::string_view> PosterWords();
std::span<const std::string_view> UnicodeBits();

}  // namespace pinpipe::source::internal
