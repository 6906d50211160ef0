#include "pinpipe/log/crc32c.h"

#include <array>
#include <cstring>

namespace pinpipe::log {
namespace {

constexpr uint32_t kPoly = 0x82F63B78;  // 0x1EDC6F41 reflected

struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  constexpr Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kPoly : 0);
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
  }
};

constexpr Tables kTables;

// Shifting a CRC register over zero bytes is linear over GF(2): a 32x32
// bit matrix, kept as its 32 columns. The hardware path below runs three
// streams at once (the crc32 instruction has a latency of three cycles and a
// throughput of one) and joins them by shifting the earlier ones over the
// later streams' lengths with these.
using Gf2Matrix = std::array<uint32_t, 32>;

constexpr uint32_t Gf2Times(const Gf2Matrix& m, uint32_t v) {
  uint32_t sum = 0;
  for (int i = 0; v != 0; ++i, v >>= 1) {
    if (v & 1) sum ^= m[static_cast<size_t>(i)];
  }
  return sum;
}

constexpr Gf2Matrix Gf2Square(const Gf2Matrix& m) {
  Gf2Matrix sq{};
  for (size_t i = 0; i < 32; ++i) sq[i] = Gf2Times(m, m[i]);
  return sq;
}

// Tables that shift a register over `bytes` zero bytes (a power of two): the
// shifted register is the XOR of one entry per register byte.
struct ShiftTables {
  std::array<std::array<uint32_t, 256>, 4> t{};
  constexpr explicit ShiftTables(size_t bytes) {
    Gf2Matrix op{};  // one zero bit
    op[0] = kPoly;
    for (size_t i = 1; i < 32; ++i) op[i] = uint32_t{1} << (i - 1);
    for (size_t bits = 1; bits < bytes * 8; bits *= 2) op = Gf2Square(op);
    for (uint32_t b = 0; b < 256; ++b) {
      for (size_t k = 0; k < 4; ++k) t[k][b] = Gf2Times(op, b << (8 * k));
    }
  }
  uint32_t Shift(uint32_t crc) const {
    return t[0][crc & 0xFF] ^ t[1][(crc >> 8) & 0xFF] ^ t[2][(crc >> 16) & 0xFF] ^ t[3][crc >> 24];
  }
};

constexpr size_t kLongStream = 8192;
constexpr size_t kShortStream = 256;
constexpr ShiftTables kShiftLong(kLongStream);
constexpr ShiftTables kShiftShort(kShortStream);

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) inline uint64_t Crc3Way(uint64_t c, const uint8_t*& p, size_t& n,
                                                          size_t stream, const ShiftTables& shift) {
  while (n >= 3 * stream) {
    uint64_t c1 = 0;
    uint64_t c2 = 0;
    for (const uint8_t* end = p + stream; p < end; p += 8) {
      uint64_t w0;
      uint64_t w1;
      uint64_t w2;
      std::memcpy(&w0, p, 8);
      std::memcpy(&w1, p + stream, 8);
      std::memcpy(&w2, p + 2 * stream, 8);
      c = __builtin_ia32_crc32di(c, w0);
      c1 = __builtin_ia32_crc32di(c1, w1);
      c2 = __builtin_ia32_crc32di(c2, w2);
    }
    c = shift.Shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c1);
    c = shift.Shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c2);
    p += 2 * stream;
    n -= 3 * stream;
  }
  return c;
}

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const uint8_t* p,
                                                          size_t n) {
  uint64_t c = static_cast<uint32_t>(~crc);
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = __builtin_ia32_crc32qi(static_cast<uint32_t>(c), *p++);
    --n;
  }
  c = Crc3Way(c, p, n, kLongStream, kShiftLong);
  c = Crc3Way(c, p, n, kShortStream, kShiftShort);
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = __builtin_ia32_crc32qi(static_cast<uint32_t>(c), *p++);
    --n;
  }
  return ~static_cast<uint32_t>(c);
}

bool DetectHardware() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#endif

}  // namespace

uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  const auto& t = kTables.t;
  while (size >= 8) {
    // Slicing-by-8: fold eight bytes per step through eight tables.
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
        t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    c = (c >> 8) ^ t[0][(c ^ *p++) & 0xFF];
    --size;
  }
  return ~c;
}

bool Crc32cHardwareAvailable() {
#if defined(__x86_64__)
  static const bool available = DetectHardware();
  return available;
#else
  return false;
#endif
}

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
#if defined(__x86_64__)
  if (Crc32cHardwareAvailable()) {
    return ExtendHardware(crc, static_cast<const uint8_t*>(data), size);
  }
#endif
  return Crc32cExtendPortable(crc, data, size);
}

}  // namespace pinpipe::log
