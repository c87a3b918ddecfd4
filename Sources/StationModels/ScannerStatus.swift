/// What one configured handheld scanner is doing, for `GET /v1/status` and `vhc scanner list`.
package struct ScannerStatus: Sendable, Codable, Equatable {
    /// The configured path (a udev link such as `/dev/vhc-scanner`).
    package var device: String
    /// `serial` or `keyboard`.
    package var interface: String
    package var state: State
    /// Why it is not listening, in the system's words (`Permission denied`), when it is not.
    package var detail: String?
    /// Since when it is in this state, epoch seconds.
    package var since: Int64
    /// The last code it read (verified or refused), epoch seconds.
    package var lastReadAt: Int64?
    /// Codes passed on to be verified, and lines refused (`scanner_symbology`, `scanner_garbled`), since
    /// the daemon started.
    package var reads: Int
    package var refused: Int

    package enum State: String, Sendable, Codable, Equatable, CaseIterable {
        /// Not opened yet.
        case opening
        /// Open (and for a keyboard, grabbed): what it scans is verified.
        case listening
        /// Not there (unplugged, or not plugged in yet): tried again with a back-off.
        case waitingForDevice = "waiting_for_device"
        /// There, but it cannot be opened: no permission, or another program holds it.
        case failed
    }

    package init(device: String, interface: String, state: State = .opening, since: Int64) {
        self.device = device
        self.interface = interface
        self.state = state
        self.since = since
        self.reads = 0
        self.refused = 0
    }
}
