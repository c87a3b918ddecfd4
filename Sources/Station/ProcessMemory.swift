import Foundation

#if canImport(Glibc)
    import CMalloc
    import Glibc
#endif

/// The daemon's memory given back to the system after a burst (issue 21: 20 concurrent 12 MP uploads
/// left it at 108 MiB against 45 idle, in glibc's arenas). glibc only.
package enum ProcessMemory {
    /// At start: blocks of 1 MiB or more (images, request bodies) are mapped on their own and unmapped
    /// when freed. glibc otherwise raises its threshold to the largest block freed so far (up to 32 MiB),
    /// after which large images come from the heap and stay there.
    package static func mapLargeBlocks() {
        #if canImport(Glibc)
            _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        #endif
    }

    /// The process's resident memory (the second field of /proc/self/statm, in pages), in bytes; nil
    /// where there is no /proc.
    package static func residentBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        #if canImport(Glibc)
            return pages * sysconf(Int32(_SC_PAGESIZE))
        #else
            return pages * 4096
        #endif
    }

    /// Returns the free pages of every arena to the system; a few milliseconds at most.
    package static func trim() {
        #if canImport(Glibc)
            _ = malloc_trim(0)
        #endif
    }
}
