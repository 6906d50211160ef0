// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the checksum of every
// record batch and offset-store entry in the embedded log.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run
// time) and a slicing-by-8 table otherwise; both give identical results.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pinpipe::log {

// Extends `crc` (the value returned for the data so far; 0 to start) over
// `size` bytes at `data`. Crc32c("123456789") == 0xE3069283.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data.data(), data.size()); }

// The portable table implementation, exposed so tests can compare it with the
// hardware path.
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t size);

// True when the hardware path is in use.
bool Crc32cHardwareAvailable();

}  // namespace pinpipe::log
