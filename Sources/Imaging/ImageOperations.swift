/// The few image operations the decoder's pass ladder and the tests need, written for speed on
/// small grey frames. Kept here, not in a general imaging library, because these are all we use.
extension GrayImage {
    /// Every pixel inverted: dark-mode wallets show light modules on dark.
    package func inverted() -> GrayImage {
        // A plain loop over raw pointers vectorises; `map` over the array does not.
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for i in 0..<source.count { target[i] = ~source[i] }
            }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }

    /// Downscaled by area averaging so its longer side is `longSide` (never upscaled).
    package func downscaled(toLongSide longSide: Int) -> GrayImage {
        let longest = max(width, height)
        guard longest > longSide, longSide > 0 else { return self }
        let newWidth = max(1, (width * longSide + longest / 2) / longest)
        let newHeight = max(1, (height * longSide + longest / 2) / longest)
        return resizedByArea(width: newWidth, height: newHeight)
    }

    /// Area-averaging resize (each output pixel is the mean of the input area it covers). Row by row:
    /// besides the result it holds one row of floats, so a 12 MP photo is reduced in place of memory
    /// (issue 11: under 64 MB for a 12 MP photo).
    package func resizedByArea(width newWidth: Int, height newHeight: Int) -> GrayImage {
        let horizontal = Self.areaWeights(from: width, to: newWidth)
        let vertical = Self.areaWeights(from: height, to: newHeight)
        var result = [UInt8](repeating: 0, count: newWidth * newHeight)
        var sums = [Float](repeating: 0, count: newWidth)
        pixels.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { out in
                sums.withUnsafeMutableBufferPointer { sums in
                    for y in 0..<newHeight {
                        for x in 0..<newWidth { sums[x] = 0 }
                        // Each input row this output row covers, resampled horizontally and weighted.
                        for (row, rowWeight) in vertical[y] {
                            let start = row * width
                            for x in 0..<newWidth {
                                var sum: Float = 0
                                for (index, weight) in horizontal[x] { sum += Float(source[start + index]) * weight }
                                sums[x] += sum * rowWeight
                            }
                        }
                        for x in 0..<newWidth { out[y * newWidth + x] = UInt8(min(255, max(0, sums[x] + 0.5))) }
                    }
                }
            }
        }
        return GrayImage(width: newWidth, height: newHeight, pixels: result)
    }

    /// For each output index, the input indices it covers and their weights (summing to 1).
    static func areaWeights(from source: Int, to target: Int) -> [[(Int, Float)]] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { index in
            let start = Double(index) * scale, end = start + scale
            var weights: [(Int, Float)] = []
            var position = Int(start)
            while Double(position) < end && position < source {
                let covered = min(end, Double(position + 1)) - max(start, Double(position))
                if covered > 1e-9 { weights.append((position, Float(covered / scale))) }
                position += 1
            }
            return weights
        }
    }

    /// Upscaled by an integer `factor` with bilinear interpolation: small codes (under about
    /// 2.5 camera pixels per module) give decoders' binarisers more to work with.
    package func upscaled(by factor: Int) -> GrayImage {
        guard factor > 1, width > 0, height > 0 else { return self }
        if factor == 2 { return upscaledTwice() }
        let newWidth = width * factor, newHeight = height * factor
        var out = [UInt8](repeating: 0, count: newWidth * newHeight)
        let f = Double(factor)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<newHeight {
                    let sy = max(0, (Double(y) + 0.5) / f - 0.5)
                    let y0 = min(height - 1, Int(sy)), y1 = min(height - 1, y0 + 1)
                    let fy = sy - Double(y0)
                    for x in 0..<newWidth {
                        let sx = max(0, (Double(x) + 0.5) / f - 0.5)
                        let x0 = min(width - 1, Int(sx)), x1 = min(width - 1, x0 + 1)
                        let fx = sx - Double(x0)
                        let top = Double(source[y0 * width + x0]) * (1 - fx) + Double(source[y0 * width + x1]) * fx
                        let bottom = Double(source[y1 * width + x0]) * (1 - fx) + Double(source[y1 * width + x1]) * fx
                        target[y * newWidth + x] = UInt8(min(255, max(0, top * (1 - fy) + bottom * fy + 0.5)))
                    }
                }
            }
        }
        return GrayImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// The 2× case in integer arithmetic: each output pixel sits a quarter of a pixel from its
    /// nearest source pixel, so the bilinear weights are always 3/4 and 1/4 (9, 3, 3, 1 over 16).
    /// Done as two separable steps, each 3·near + far. The inner loops use raw pointers and
    /// wrapping arithmetic (nothing can overflow: at most 16 · 255) so that they carry no checks
    /// and the compiler can vectorise them; this pass runs on most camera frames.
    func upscaledTwice() -> GrayImage {
        let newWidth = width &* 2, newHeight = height &* 2
        // Every source row widened to 2× once, kept at 4× scale.
        let wide = UnsafeMutablePointer<UInt16>.allocate(capacity: height * newWidth)
        defer { wide.deallocate() }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight)
        let width = self.width, height = self.height
        pixels.withUnsafeBufferPointer { source in
            let source = source.baseAddress!
            for y in 0..<height {
                let row = source + y &* width, wideRow = wide + y &* newWidth
                // Edges: the missing neighbour is the pixel itself.
                wideRow[0] = UInt16(row[0]) &* 4
                wideRow[newWidth &- 1] = UInt16(row[width &- 1]) &* 4
                for x in 1..<width {
                    // Between source pixels x-1 and x: output 2x-1 leans left, 2x leans right.
                    let left = UInt16(row[x &- 1]), right = UInt16(row[x])
                    wideRow[2 &* x &- 1] = left &* 3 &+ right
                    wideRow[2 &* x] = right &* 3 &+ left
                }
            }
        }
        out.withUnsafeMutableBufferPointer { target in
            let target = target.baseAddress!
            for y in 0..<newHeight {
                // Nearer and farther source rows for this output row (edges clamped).
                let near = y / 2
                let far = y % 2 == 0 ? max(0, near - 1) : min(height - 1, near + 1)
                let nearRow = wide + near &* newWidth, farRow = wide + far &* newWidth
                let outRow = target + y &* newWidth
                for x in 0..<newWidth {
                    outRow[x] = UInt8(truncatingIfNeeded: (nearRow[x] &* 3 &+ farRow[x] &+ 8) &>> 4)
                }
            }
        }
        return GrayImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// Separable Gaussian blur with standard deviation `sigma` (pixels); edges are clamped.
    package func gaussianBlurred(sigma: Double) -> GrayImage {
        guard sigma > 0.05, width > 0, height > 0 else { return self }
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        var temporary = [Float](repeating: 0, count: width * height)
        var result = [UInt8](repeating: 0, count: width * height)
        let w = width, h = height
        pixels.withUnsafeBufferPointer { source in
            temporary.withUnsafeMutableBufferPointer { out in
                kernel.withUnsafeBufferPointer { k in
                    for y in 0..<h {
                        let row = y * w
                        for x in 0..<w {
                            var sum: Float = 0
                            if x >= radius && x < w - radius {
                                for i in 0...(2 * radius) { sum += Float(source[row + x - radius + i]) * k[i] }
                            } else {
                                for i in 0...(2 * radius) {
                                    sum += Float(source[row + min(w - 1, max(0, x - radius + i))]) * k[i]
                                }
                            }
                            out[row + x] = sum
                        }
                    }
                }
            }
        }
        temporary.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { out in
                kernel.withUnsafeBufferPointer { k in
                    for y in 0..<h {
                        for x in 0..<w {
                            var sum: Float = 0
                            for i in 0...(2 * radius) {
                                sum += source[min(h - 1, max(0, y - radius + i)) * w + x] * k[i]
                            }
                            out[y * w + x] = UInt8(min(255, max(0, sum + 0.5)))
                        }
                    }
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: result)
    }

    /// Smoothed by the 5-tap binomial kernel [1 4 6 4 1]/16 in each direction (a Gaussian of σ 1 px,
    /// in integers: a sixth of `gaussianBlurred`'s time on an 8 MP still); edges are clamped. The
    /// horizontal sums are kept for five rows at a time, so the only image-sized memory is the result.
    package func binomialSmoothed() -> GrayImage {
        guard width > 0, height > 0 else { return self }
        let w = width, h = height
        var ring = [UInt16](repeating: 0, count: w * 5)  // horizontal sums of rows y-2…y+2, at most 16 × 255
        var result = [UInt8](repeating: 0, count: w * h)
        pixels.withUnsafeBufferPointer { source in
            ring.withUnsafeMutableBufferPointer { ring in
                result.withUnsafeMutableBufferPointer { out in
                    /// Row `y` (clamped), summed horizontally into its slot of the ring.
                    func sumRow(_ y: Int) {
                        let row = min(h - 1, max(0, y)) * w, slot = ((y % 5) + 5) % 5 * w
                        func at(_ x: Int) -> UInt16 { UInt16(source[row + min(w - 1, max(0, x))]) }
                        for x in 0..<w {
                            if x >= 2 && x < w - 2 {
                                let a = UInt16(source[row + x - 2]) &+ UInt16(source[row + x + 2])
                                let b = UInt16(source[row + x - 1]) &+ UInt16(source[row + x + 1])
                                ring[slot + x] = a &+ b &* 4 &+ UInt16(source[row + x]) &* 6
                            } else {
                                ring[slot + x] = at(x - 2) &+ at(x + 2) &+ (at(x - 1) &+ at(x + 1)) &* 4 &+ at(x) &* 6
                            }
                        }
                    }
                    for y in -2..<2 { sumRow(y) }
                    for y in 0..<h {
                        sumRow(y + 2)
                        let s = (-2...2).map { ((y + $0) % 5 + 5) % 5 * w }
                        for x in 0..<w {
                            let sum =
                                UInt32(ring[s[0] + x]) &+ UInt32(ring[s[4] + x])
                                &+ (UInt32(ring[s[1] + x]) &+ UInt32(ring[s[3] + x])) &* 4 &+ UInt32(ring[s[2] + x]) &* 6
                            out[y * w + x] = UInt8(truncatingIfNeeded: (sum &+ 128) &>> 8)
                        }
                    }
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: result)
    }

    /// Binarised against the mean of each pixel's `window`×`window` neighbourhood (`window` odd, at most
    /// 255; edges clamped): a pixel
    /// more than `offset` grey levels below its local mean is black (0), the rest white (255). With a window
    /// of about two modules each module is judged against its own neighbourhood, whatever a smudge, a
    /// shadow or a veil does to the code's grey levels around it (OpenCV's adaptive MEAN_C threshold; written
    /// here, as OpenCV is not a dependency of the station). Column sums are slid down the image and their
    /// window along each row, so the only image-sized memory is the result.
    package func meanThresholded(window: Int, offset: Int) -> GrayImage {
        precondition(window > 0 && window % 2 == 1 && window <= 255, "an odd window of at most 255 pixels")
        guard width > 0, height > 0 else { return self }
        // 255² pixels of at most 255 each stay well within Int32.
        let w = width, h = height, reach = window / 2, count = Int32(window * window)
        var columns = [Int32](repeating: 0, count: w)  // column x summed over rows y-reach…y+reach, clamped
        var result = [UInt8](repeating: 0, count: w * h)
        pixels.withUnsafeBufferPointer { source in
            columns.withUnsafeMutableBufferPointer { columns in
                result.withUnsafeMutableBufferPointer { out in
                    func addRow(_ y: Int, _ sign: Int32) {
                        let row = min(h - 1, max(0, y)) * w
                        for x in 0..<w { columns[x] &+= sign &* Int32(source[row + x]) }
                    }
                    func column(_ x: Int) -> Int32 { columns[min(w - 1, max(0, x))] }
                    for y in -reach...reach { addRow(y, 1) }
                    for y in 0..<h {
                        if y > 0 {
                            addRow(y + reach, 1)
                            addRow(y - reach - 1, -1)
                        }
                        var sum: Int32 = 0
                        for x in -reach...reach { sum &+= column(x) }
                        for x in 0..<w {
                            if x > 0 { sum &+= column(x + reach) &- column(x - reach - 1) }
                            // pixel > mean − offset, in whole numbers: pixel × count > sum − offset × count
                            let pixel = Int32(source[y * w + x]) &* count
                            out[y * w + x] = pixel > sum &- Int32(offset) &* count ? 255 : 0
                        }
                    }
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: result)
    }

    /// Rotated by `degrees` (counter-clockwise) about the centre, bilinear, into a canvas that holds
    /// the whole result; uncovered pixels are `background`.
    package func rotated(degrees: Double, background: UInt8 = 255) -> GrayImage {
        let radians = degrees * .pi / 180
        let c = cos(radians), s = sin(radians)
        let newWidth = Int((abs(Double(width) * c) + abs(Double(height) * s)).rounded(.up))
        let newHeight = Int((abs(Double(width) * s) + abs(Double(height) * c)).rounded(.up))
        var out = GrayImage(width: newWidth, height: newHeight, filledWith: background)
        let cx = Double(width) / 2, cy = Double(height) / 2
        let ncx = Double(newWidth) / 2, ncy = Double(newHeight) / 2
        for y in 0..<newHeight {
            for x in 0..<newWidth {
                // Inverse mapping: where in the source does this output pixel come from?
                let dx = Double(x) + 0.5 - ncx, dy = Double(y) + 0.5 - ncy
                let sx = c * dx - s * dy + cx - 0.5
                let sy = s * dx + c * dy + cy - 0.5
                if let value = bilinear(x: sx, y: sy) { out[x, y] = value }
            }
        }
        return out
    }

    /// Bilinear sample at a fractional position; `nil` outside the image.
    package func bilinear(x: Double, y: Double) -> UInt8? {
        guard x > -1, y > -1, x < Double(width), y < Double(height) else { return nil }
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let fx = x - Double(x0), fy = y - Double(y0)
        func at(_ px: Int, _ py: Int) -> Double {
            Double(self[min(width - 1, max(0, px)), min(height - 1, max(0, py))])
        }
        let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
        let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
        return UInt8(min(255, max(0, top * (1 - fy) + bottom * fy + 0.5)))
    }
}

#if canImport(Glibc)
    import Glibc
#endif
