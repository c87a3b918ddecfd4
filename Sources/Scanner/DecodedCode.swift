/// A code read from a frame: its text, where it was, and which pass of the ladder read it.
package struct DecodedCode: Hashable, Sendable, Codable {
    package var text: String
    /// Corners in the coordinates of the original frame, as `[[x, y], …]`.
    package var corners: [[Int]]
    package var pass: String

    package init(text: String, corners: [[Int]], pass: String) {
        self.text = text
        self.corners = corners
        self.pass = pass
    }
}

extension DecodedCode {
    /// The code with its corners in the image a reduced copy was made from.
    func mapped(_ toImage: ToFrame) -> DecodedCode {
        var code = self
        code.corners = corners.map { toImage.point(x: Double($0[0]), y: Double($0.count > 1 ? $0[1] : 0)) }
        return code
    }

    /// Whether this code's outline and `outline` (corners in the same frame) intersect, by their
    /// bounding boxes: two reads of one code never sit apart, two copies of a code on a page do.
    func overlaps(_ outline: [[Int]]) -> Bool {
        guard let mine = Box(corners), let theirs = Box(outline) else { return false }
        return mine.intersects(theirs)
    }
}
