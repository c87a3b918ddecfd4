/// De-duplication: a payload seen again within `window` seconds is reported once. A phone held in
/// front of the camera is read many times a second; the station must act on it once.
package struct RecentPayloads: Sendable {
    package let window: Double
    private var lastSeen: [String: Double] = [:]

    package init(window: Double = 5) { self.window = window }

    /// `true` when `text` was not seen in the last `window` seconds before `time` (any monotonic
    /// seconds). Each sighting restarts the window, so a code held up for a minute reports once.
    package mutating func isNew(_ text: String, at time: Double) -> Bool {
        lastSeen = lastSeen.filter { time - $0.value < window }
        let new = lastSeen[text] == nil
        lastSeen[text] = time
        return new
    }
}
