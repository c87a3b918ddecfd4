import Foundation
import Imaging
import Scanner

/// Decodes every image of a phone-screen set (Benchmarks/phone-screens) with the station's pass
/// ladder and with zbar alone (the same library, one pass), on one thread, and prints one JSON line
/// per image and decoder: {"file", "decoder", "ok", "ms", "pass", "frames"}. Images are loaded (JPEG
/// decoded) before timing starts: the figures are decoder time per frame. Run through
/// Benchmarks/scan.sh.
///
/// The station is measured as a camera uses it: each image is a code held up to the camera, shown
/// to a fresh stream decoder as its first frame and, if that frame is not read, as its second
/// (issue 3: "read in one or two frames"). `ms` lists the time of each frame decoded; `ok` is a
/// read within two frames, `okFirstFrame` on the first. The baselines are stateless, so a second
/// identical frame would tell them nothing new: they get one.
@main
enum ScanBenchmark {
    struct Truth: Decodable {
        struct Image: Decodable {
            let file: String
            let category: String
            let text: String
        }
        let images: [Image]
    }

    struct Line: Encodable {
        let file: String
        let category: String
        let decoder: String
        let ok: Bool
        /// Milliseconds per frame decoded: one entry, or two for the station when the first missed.
        let ms: [Double]
        let pass: String?
        var okFirstFrame: Bool? = nil
    }

    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            FileHandle.standardError.write(
                Data(
                    "usage: ScanBenchmark SET-DIRECTORY [--repeat N] [--passes a,b,… | --ladder640 a,b|c|d --ladder1280 …]\n       \(StillBenchmark.usage)\n"
                        .utf8))
            exit(2)
        }
        if arguments[1] == "--still" || arguments[1] == "--memory-probe" {
            try StillBenchmark.main(arguments)
            return
        }
        let directory = arguments[1]
        let repeats = arguments.firstIndex(of: "--repeat").flatMap { Int(arguments[$0 + 1]) } ?? 3
        let truth = try JSONDecoder().decode(
            Truth.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/truth.json")))
        var configuration = FrameDecoder.Configuration()
        // Another stream ladder: "--ladder640 a,b|c,d|e" is a and b on every frame, then c,d and e in turn.
        func ladder(_ option: String) -> FrameDecoder.Ladder? {
            guard let index = arguments.firstIndex(of: option) else { return nil }
            let groups = arguments[index + 1].split(separator: "|", omittingEmptySubsequences: false).map { group in
                group.split(separator: ",").map { name in
                    guard let pass = FrameDecoder.Pass(String(name)) else { fatalError("unknown pass \(name)") }
                    return pass
                }
            }
            return FrameDecoder.Ladder(everyFrame: groups[0], alternating: Array(groups.dropFirst()))
        }
        if let small = ladder("--ladder640") { configuration.ladder = small }
        if let large = ladder("--ladder1280") { configuration.largeFrameLadder = large }
        if let index = arguments.firstIndex(of: "--passes") {
            // One ladder of these passes on every frame (per-pass measurement, docs/qr-decoding.md).
            configuration = FrameDecoder.Configuration(
                ladder: .init(
                    everyFrame: arguments[index + 1].split(separator: ",").map { name in
                        guard let pass = FrameDecoder.Pass(String(name)) else { fatalError("unknown pass \(name)") }
                        return pass
                    }))
        }
        let zbarAlone = ZBarQRDecoder()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for image in truth.images {
            let frame = try GrayImage.read(contentsOf: directory + "/" + image.file)
            // Best of `repeats` runs, frame by frame: the machine is shared, and the slowest run says
            // more about it than about us. Each run is a fresh stream (its first frame, then its second).
            var best = [Double.infinity, Double.infinity]
            var reads: [DecodedCode?] = [nil, nil]
            for _ in 0..<repeats {
                let station = FrameDecoder(configuration: configuration)
                for index in 0..<2 {
                    let (elapsed, codes) = time { station.decodeStreamFrame(frame) }
                    best[index] = min(best[index], elapsed)
                    reads[index] = codes.first { $0.text == image.text }
                    if !codes.isEmpty { break }
                }
            }
            let framesDecoded = reads[0] != nil ? 1 : 2
            let read = reads[0] ?? reads[1]
            emit(
                Line(
                    file: image.file, category: image.category, decoder: "station", ok: read != nil,
                    ms: Array(best.prefix(framesDecoded)), pass: read?.pass, okFirstFrame: reads[0] != nil))

            var bestZBar = Double.infinity
            var symbols: [QRSymbol] = []
            for _ in 0..<repeats {
                let (elapsed, result) = time { zbarAlone.symbols(in: frame) }
                bestZBar = min(bestZBar, elapsed)
                symbols = result
            }
            let zbarRead = symbols.contains { $0.payload == Array(image.text.utf8) }
            emit(
                Line(
                    file: image.file, category: image.category, decoder: "zbar", ok: zbarRead, ms: [bestZBar], pass: nil
                )
            )
        }

        func emit(_ line: Line) {
            var data = try! encoder.encode(line)
            data.append(UInt8(ascii: "\n"))
            FileHandle.standardOutput.write(data)
        }
    }

    static func time<T>(_ body: () -> T) -> (Double, T) {
        let clock = ContinuousClock(), start = clock.now
        let result = body()
        let (seconds, attoseconds) = start.duration(to: clock.now).components
        return (Double(seconds) * 1000 + Double(attoseconds) / 1e15, result)
    }
}
