/// The still-image ladder (issue 11): every pass runs and their reads are united, because a page
/// with several codes may have some read by one pass and some by another. Chosen by measurement on
/// the still-image set (docs/qr-decoding.md).
package struct StillLadder: Sendable, Equatable {
    package typealias Pass = FrameDecoder.Pass
    package typealias Engine = FrameDecoder.Engine
    package var passes: [Pass]
    /// Added for images no longer than `smallImageLongSide` (a cropped screenshot), where a 2×
    /// upscale is cheap and modules are likely small.
    package var smallImagePasses: [Pass]
    package var smallImageLongSide = 1280
    /// Run only when `passes` (and the small-image ones) read nothing: a pass that costs a whole zxing-cpp
    /// reading and reads what the others miss, not more of what they read (issue 26's smoothed photo).
    package var fallbackPasses: [Pass] = []
    /// Engines tried, in turn until one reads, on each code that a pass found but could not decode,
    /// cut out with a margin and enlarged: the upscale only where the modules are small.
    package var retryEngines: [Engine]
    package var retryUpscale = 2
    /// Regions larger than this (before enlarging) are not retried: their modules are not small.
    package var retryMaximumSide = 1200
    /// The margin around a found code's outline, as a fraction of its size.
    package var retryMargin = 0.25
    /// The work bound: larger images are averaged down to this many pixels before any pass.
    package var maximumPixels = 16_000_000
    /// No pass starts after this much time on one image.
    package var timeBudget: Duration = Self.defaultTimeBudget
    #if DEBUG
        /// Unoptimised builds (the tests) run about ten times slower: the same ladder, a longer budget.
        package static let defaultTimeBudget: Duration = .seconds(8)
    #else
        package static let defaultTimeBudget: Duration = .milliseconds(700)
    #endif

    package init(
        passes: [Pass], smallImagePasses: [Pass] = [], fallbackPasses: [Pass] = [], retryEngines: [Engine] = []
    ) {
        self.passes = passes
        self.smallImagePasses = smallImagePasses
        self.fallbackPasses = fallbackPasses
        self.retryEngines = retryEngines
    }
}
