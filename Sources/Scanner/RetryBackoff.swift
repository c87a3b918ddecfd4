/// How long a device that would not open waits before the next try: `initial` seconds after the first
/// failure, twice as long after each further one in a row, never more than `maximum`. The camera's and
/// the handheld scanner's reopening share it.
package enum RetryBackoff {
    package static func delay(afterFailures failures: Int, initial: Double, maximum: Double) -> Double {
        min(initial * Double(1 << min(max(failures, 1) - 1, 16)), maximum)
    }
}
