/// What the still ladder read in one image, and how much of the ladder it ran.
package struct StillImageRead: Sendable, Hashable {
    /// The image's width and height (as encoded, when it was decoded reduced).
    package var size: [Int]
    /// Every code read, once per code (the same payload at two places is two codes).
    package var codes: [DecodedCode]
    /// Codes read whose payload is not printable text (binary, UTF-8): dropped, counted once each.
    package var ignored: Int
    package var passesRun: Int
    /// Passes not started because the image's time budget was spent.
    package var passesSkipped: Int
    /// The image's size when it was larger than the work bound and decoded reduced.
    package var reducedFrom: [Int]?
}
