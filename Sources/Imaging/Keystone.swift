/// A plane projective transform (3×3 matrix, last entry 1): the map between a tilted view of a flat
/// screen and a straight one.
package struct Homography: Sendable, Hashable {
    /// Row-major h11 … h32 (h33 = 1).
    package var m: [Double]

    /// The homography that takes each of the four `from` points to the matching `to` point, or
    /// `nil` when three of them are in a line (no such transform).
    package init?(from: [(x: Double, y: Double)], to: [(x: Double, y: Double)]) {
        guard from.count == 4, to.count == 4 else { return nil }
        // Each correspondence gives two rows of the 8×8 system A·h = b (the standard DLT with h33 = 1).
        var rows: [[Double]] = []
        for (p, q) in zip(from, to) {
            rows.append([p.x, p.y, 1, 0, 0, 0, -q.x * p.x, -q.x * p.y, q.x])
            rows.append([0, 0, 0, p.x, p.y, 1, -q.y * p.x, -q.y * p.y, q.y])
        }
        guard let solution = Self.solve(rows) else { return nil }
        m = solution
    }

    package func apply(x: Double, y: Double) -> (x: Double, y: Double) {
        let w = m[6] * x + m[7] * y + 1
        return ((m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w)
    }

    /// Gauss–Jordan elimination with partial pivoting on an n×(n+1) augmented matrix.
    private static func solve(_ augmented: [[Double]]) -> [Double]? {
        var a = augmented
        let n = a.count
        for column in 0..<n {
            guard let pivot = (column..<n).max(by: { abs(a[$0][column]) < abs(a[$1][column]) }),
                abs(a[pivot][column]) > 1e-12
            else { return nil }
            a.swapAt(column, pivot)
            for row in 0..<n where row != column {
                let factor = a[row][column] / a[column][column]
                if factor != 0 { for k in column...n { a[row][k] -= factor * a[column][k] } }
            }
        }
        return (0..<n).map { a[$0][n] / a[$0][$0] }
    }
}

/// The edge of a frame that a keystone correction shortens.
package enum KeystoneEdge: String, Sendable, CaseIterable {
    case top, bottom, left, right
}

extension GrayImage {
    /// The frame re-projected as if the camera had turned away from `edge`: that edge is shortened
    /// to `1 - fraction` of its length, symmetrically, and the opposite edge kept. A phone tilted
    /// steeply towards the camera shows its near side larger than its far side; shortening the near
    /// side brings the code back towards a square, which older QR detectors (zxing-cpp 1.4, which
    /// samples the grid through one homography) need. Returns the new image and the homography that
    /// takes its coordinates back to this frame's. Pixels from outside the frame repeat its edge.
    package func keystoneCorrected(
        shortening edge: KeystoneEdge, by fraction: Double
    ) -> (
        image: GrayImage, toSource: Homography
    ) {
        let w = Double(width), h = Double(height)
        let inset = fraction / 2
        let corners: [(x: Double, y: Double)] = [(0, 0), (w, 0), (w, h), (0, h)]
        var moved = corners
        switch edge {
        case .top: moved[0].x = w * inset; moved[1].x = w * (1 - inset)
        case .bottom: moved[3].x = w * inset; moved[2].x = w * (1 - inset)
        case .left: moved[0].y = h * inset; moved[3].y = h * (1 - inset)
        case .right: moved[1].y = h * inset; moved[2].y = h * (1 - inset)
        }
        // Four distinct corners of a convex quadrilateral always give a homography.
        let toSource = Homography(from: moved, to: corners)!
        return (warped(by: toSource), toSource)
    }

    /// Each output pixel sampled bilinearly at `toSource` of its centre. The projective division is
    /// done exactly every `span` pixels along a row and interpolated linearly in between, in 16.16
    /// fixed point: at keystone strengths the error is far below a hundredth of a pixel, and the
    /// inner loop stays in integer arithmetic (about a millisecond for a 640×480 frame).
    func warped(by toSource: Homography) -> GrayImage {
        guard width > 1, height > 1 else { return self }
        let span = 16
        let one = 65536.0
        func fixedSource(_ x: Int, _ y: Int) -> (Int, Int) {
            let p = toSource.apply(x: Double(x) + 0.5, y: Double(y) + 0.5)
            // Bounded far outside any frame so the conversion cannot trap; clamped per pixel below.
            let limit = 1e6
            return (
                Int((min(limit, max(-limit, p.x - 0.5)) * one).rounded()),
                Int((min(limit, max(-limit, p.y - 0.5)) * one).rounded())
            )
        }
        // Positions are clamped to the frame; the last column and row are reached as the far
        // neighbour of the one before with a full weight (256), so every read stays inside.
        let maxFixedX = (width - 1) << 16, maxFixedY = (height - 1) << 16
        let lastX = width - 2, lastY = height - 2
        var out = [UInt8](repeating: 0, count: width * height)
        let width = self.width, height = self.height
        pixels.withUnsafeBufferPointer { source in
            let source = source.baseAddress!
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    let outRow = target.baseAddress! + y &* width
                    var start = fixedSource(0, y)
                    var x = 0
                    while x < width {
                        let count = min(span, width &- x)
                        let end = fixedSource(x &+ count, y)
                        let stepX = (end.0 &- start.0) / count, stepY = (end.1 &- start.1) / count
                        var fxp = start.0, fyp = start.1
                        for i in 0..<count {
                            // Pixels from outside the frame repeat its edge.
                            let cx = min(maxFixedX, max(0, fxp)), cy = min(maxFixedY, max(0, fyp))
                            let ix = min(lastX, cx &>> 16), iy = min(lastY, cy &>> 16)
                            let fx = (cx &- ix &<< 16) &>> 8, fy = (cy &- iy &<< 16) &>> 8
                            let above = source + (iy &* width &+ ix)
                            let below = above + width
                            let upper = Int(above[0]) &* (256 &- fx) &+ Int(above[1]) &* fx
                            let lower = Int(below[0]) &* (256 &- fx) &+ Int(below[1]) &* fx
                            outRow[x &+ i] = UInt8(
                                truncatingIfNeeded: (upper &* (256 &- fy) &+ lower &* fy &+ 32768) &>> 16)
                            fxp &+= stepX
                            fyp &+= stepY
                        }
                        start = end
                        x &+= count
                    }
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }
}
