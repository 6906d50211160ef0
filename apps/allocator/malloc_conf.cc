// jemalloc's built-in options for the binaries that link it (see
// pinpipe_use_allocator in cmake/pinpipe.cmake). MALLOC_CONF in the
// environment still overrides them.
//
// thp:always backs jemalloc's memory with transparent huge pages
// (MADV_HUGEPAGE). The pipeline moves data through buffers of megabytes (log
// reads, sink objects, request bodies); on a VM, where every 4 KiB page
// fault is expensive, first-touching that memory a page at a time cost the
// sink ~4x its CPU time (bench/sink: 0.22 instead of 1.07 CPU-seconds for
// 200 MB).
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "thp:always";
}
