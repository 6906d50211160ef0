// Generator: deterministic synthetic source data with the shapes and dirt of
// the original Pinterest data set (spec/data.md).
//
// Every row is a pure function of (seed, rows, index): rows can be produced in
// any order, in parallel, and are byte-identical on every machine (own PRNG,
// integer-only arithmetic, no std:: distributions). People and posters are
// drawn from pools sized from `rows`, so the same person appears under several
// ind values and the same poster behind several pins.
//
// Thread-safety: const after construction; safe to share between threads.
#pragma once

#include <cstdint>

#include "pinpipe/model/rows.h"

namespace pinpipe::source {

inline constexpr int64_t kDefaultRows = 11153;
inline constexpr uint64_t kDefaultSeed = 100;

// splitmix64: seeds and hashes. xoshiro256**: the stream of one row.
uint64_t SplitMix64(uint64_t* state);

class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, n) (n > 0), by multiply-shift.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((__uint128_t{Next()} * n) >> 64); }
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // True with probability per_million / 1e6.
  bool Chance(uint32_t per_million) { return Below(1000000) < per_million; }

 private:
  uint64_t s_[4];
};

class Generator {
 public:
  Generator(uint64_t seed, int64_t rows);

  int64_t rows() const { return rows_; }
  uint64_t seed() const { return seed_; }

  // The three rows of post `index` (0 <= index < rows). Outputs are overwritten
  // (their string capacity is reused).
  void Post(int64_t index, model::PinRow* pin, model::GeoRow* geo, model::UserRow* user) const;

  // Sizes of the pools, for tests.
  int64_t people() const { return people_; }
  int64_t posters() const { return posters_; }

 private:
  uint64_t seed_;
  int64_t rows_;
  int64_t people_;
  int64_t posters_;
};

}  // namespace pinpipe::source
