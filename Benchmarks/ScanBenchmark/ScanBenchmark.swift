import Foundation
import Imaging
import Scanner

/// Decodes every image of a phone-screen set (Benchmarks/phone-screens) with the station's pass
/// ladder and with zbar alone (the same library, one pass), on one thread, and prints one JSON line
/// per image and decoder: {"file", "decoder", "ok", "ms", "pass"}. Images are loaded (JPEG decoded)
/// before timing starts: the figures are decoder time per frame. Run through Benchmarks/scan.sh.
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
        let ms: Double
        let pass: String?
    }

    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            FileHandle.standardError.write(
                Data("usage: ScanBenchmark SET-DIRECTORY [--repeat N] [--passes a,b,…]\n".utf8))
            exit(2)
        }
        let directory = arguments[1]
        let repeats = arguments.firstIndex(of: "--repeat").flatMap { Int(arguments[$0 + 1]) } ?? 3
        let truth = try JSONDecoder().decode(
            Truth.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/truth.json")))
        var configuration = FrameDecoder.Configuration()
        if let index = arguments.firstIndex(of: "--passes") {
            configuration = FrameDecoder.Configuration(
                passes: arguments[index + 1].split(separator: ",").map { name in
                    guard let pass = FrameDecoder.Pass(String(name)) else { fatalError("unknown pass \(name)") }
                    return pass
                })
        }
        let station = FrameDecoder(configuration: configuration)
        let zbarAlone = ZBarQRDecoder()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for image in truth.images {
            let frame = try GrayImage.read(contentsOf: directory + "/" + image.file)
            // Best of `repeats` runs: the machine is shared, and the slowest run says more about it than about us.
            var best = Double.infinity
            var codes: [DecodedCode] = []
            for _ in 0..<repeats {
                let (elapsed, result) = time { station.decodeImage(frame) }
                best = min(best, elapsed)
                codes = result
            }
            let read = codes.first { $0.text == image.text }
            emit(
                Line(
                    file: image.file, category: image.category, decoder: "station", ok: read != nil, ms: best,
                    pass: read?.pass))

            var bestZBar = Double.infinity
            var symbols: [QRSymbol] = []
            for _ in 0..<repeats {
                let (elapsed, result) = time { zbarAlone.symbols(in: frame) }
                bestZBar = min(bestZBar, elapsed)
                symbols = result
            }
            let zbarRead = symbols.contains { $0.payload == Array(image.text.utf8) }
            emit(
                Line(file: image.file, category: image.category, decoder: "zbar", ok: zbarRead, ms: bestZBar, pass: nil)
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
