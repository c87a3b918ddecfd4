import Imaging

struct Box {
    var minX, minY, maxX, maxY: Int
    init?(_ points: [[Int]]) {
        let xs = points.compactMap(\.first), ys = points.compactMap { $0.count > 1 ? $0[1] : nil }
        guard let minX = xs.min(), let maxX = xs.max(), let minY = ys.min(), let maxY = ys.max() else { return nil }
        (self.minX, self.minY, self.maxX, self.maxY) = (minX, minY, maxX, maxY)
    }

    func intersects(_ other: Box) -> Bool {
        minX <= other.maxX && other.minX <= maxX && minY <= other.maxY && other.minY <= maxY
    }
}

extension GrayImage {
    /// The part of the image around `outline` (with `margin` of its size on each side), clipped to
    /// the image, and where it starts; nil when nothing of it is inside.
    func region(around outline: [[Int]], margin: Double) -> (image: GrayImage, x: Int, y: Int)? {
        guard let box = Box(outline) else { return nil }
        let padX = Int(Double(box.maxX - box.minX) * margin) + 4
        let padY = Int(Double(box.maxY - box.minY) * margin) + 4
        let x0 = max(0, box.minX - padX), y0 = max(0, box.minY - padY)
        let x1 = min(width, box.maxX + padX + 1), y1 = min(height, box.maxY + padY + 1)
        guard x1 - x0 >= 8, y1 - y0 >= 8 else { return nil }
        var pixels = [UInt8]()
        pixels.reserveCapacity((x1 - x0) * (y1 - y0))
        for row in y0..<y1 { pixels += self.pixels[(row * width + x0)..<(row * width + x1)] }
        return (GrayImage(width: x1 - x0, height: y1 - y0, pixels: pixels), x0, y0)
    }
}

/// How a point found in a variant of a frame maps back to the frame itself.
enum ToFrame {
    case scaled(Double)
    case projected(Homography)
    /// A crop enlarged: scaled, then moved to where the crop starts.
    case scaledAndShifted(Double, x: Double, y: Double)
    /// A resize with its own factor on each axis: from `width` to `reducedWidth`, and likewise.
    case scaledAxes(Int, Int, Int, Int)

    func point(x: Double, y: Double) -> [Int] {
        switch self {
        case .scaled(let factor): [Int((x * factor).rounded()), Int((y * factor).rounded())]
        case .scaledAndShifted(let factor, let dx, let dy):
            [Int((x * factor + dx).rounded()), Int((y * factor + dy).rounded())]
        case .scaledAxes(let width, let reducedWidth, let height, let reducedHeight):
            [
                Int((x * Double(width) / Double(reducedWidth)).rounded()),
                Int((y * Double(height) / Double(reducedHeight)).rounded()),
            ]
        case .projected(let homography):
            // Corners are pixel indices: project their centres, and back to an index.
            Self.pixel(homography.apply(x: x + 0.5, y: y + 0.5))
        }
    }

    private static func pixel(_ point: (x: Double, y: Double)) -> [Int] {
        [Int((point.x - 0.5).rounded()), Int((point.y - 0.5).rounded())]
    }
}
