import Foundation
import Imaging
import Scanner

#if canImport(Glibc)
    import Glibc
#endif

/// The still-image benchmark (issue 11; run through Benchmarks/still.sh): every image of a still set
/// (Benchmarks/still-images) read by the still ladder as `POST /v1/scans/image` reads it, the time
/// including reading and decoding the file, as the baselines' does. One JSON line per image:
/// {"file", "category", "decoder": "station", "expected", "read", "extra", "ms"}.
///   --each-pass: one line per image and candidate pass instead ("decoder": "pass:NAME"), each pass
///     alone on the decoded image (file decoding excluded), to choose the ladder by measurement.
///   --ladder a,b,… [--retry e,f|none] [--small g,h|none] [--fallback i,j|none]: another still ladder
///     than the default (to compare ladders in one run).
///   --memory-probe FILE: reads one image and prints the process's peak resident memory.
enum StillBenchmark {
    static let usage = "ScanBenchmark --still SET-DIRECTORY [--repeat N] [--each-pass] | --memory-probe FILE"

    struct Truth: Decodable {
        struct Image: Decodable {
            let file: String
            let category: String
            let texts: [String]
        }
        let images: [Image]
    }

    struct Line: Encodable {
        let file: String
        let category: String
        let decoder: String
        let expected: Int
        let read: Int
        let extra: Int
        let ms: Double
        var passesSkipped: Int? = nil
        /// Which of the truth's texts were read, by index (to simulate unions of passes).
        var readIndices: [Int]? = nil
    }

    struct MemoryLine: Encodable {
        let file: String
        let decoder = "station"
        let peakMiB: Double
        let baseMiB: Double
        let codes: Int
    }

    static func main(_ arguments: [String]) throws {
        guard arguments.count >= 3 else {
            FileHandle.standardError.write(Data("usage: \(usage)\n".utf8))
            exit(2)
        }
        if arguments[1] == "--memory-probe" {
            let base = residentMiB(peak: false)
            let read = try FrameDecoder().decodeImage(contentsOf: arguments[2])
            emit(
                MemoryLine(file: arguments[2], peakMiB: residentMiB(peak: true), baseMiB: base, codes: read.codes.count)
            )
            return
        }
        let directory = arguments[2]
        let repeats = arguments.firstIndex(of: "--repeat").flatMap { Int(arguments[$0 + 1]) } ?? 2
        let truth = try JSONDecoder().decode(
            Truth.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/truth.json")))
        var configuration = FrameDecoder.Configuration()
        func passes(_ option: String) -> [FrameDecoder.Pass]? {
            guard let index = arguments.firstIndex(of: option) else { return nil }
            return arguments[index + 1].split(separator: ",").compactMap { name in
                name == "none" ? nil : FrameDecoder.Pass(String(name)) ?? { fatalError("unknown pass \(name)") }()
            }
        }
        if let ladder = passes("--ladder") { configuration.stillLadder.passes = ladder }
        if let small = passes("--small") { configuration.stillLadder.smallImagePasses = small }
        if let retry = passes("--retry") { configuration.stillLadder.retryEngines = retry.map(\.engine) }
        if let fallback = passes("--fallback") { configuration.stillLadder.fallbackPasses = fallback }
        let decoder = FrameDecoder(configuration: configuration)
        let candidates: [FrameDecoder.Pass] = FrameDecoder.Pass.all.filter {
            // Upscaling a large still is what the issue rules out; keystones are camera-only.
            $0.variant != .upscaled && $0.variant != .invertedUpscaled
                && $0.variant.rawValue.hasPrefix("keystone") == false
        }
        for image in truth.images {
            let path = directory + "/" + image.file
            if arguments.contains("--each-pass") {
                let frame = try GrayImage.read(contentsOf: path)
                for pass in candidates {
                    let (elapsed, codes) = best(of: repeats) { decoder.decode(frame, passes: [pass], everyPass: true) }
                    var result = line(image, "pass:\(pass)", codes.map(\.text), elapsed)
                    result.readIndices = image.texts.indices.filter { index in
                        codes.contains { $0.text == image.texts[index] }
                    }
                    emit(result)
                }
                continue
            }
            let (elapsed, read) = best(of: repeats) { try! decoder.decodeImage(contentsOf: path) }
            var result = line(image, "station", read.codes.map(\.text), elapsed)
            result.passesSkipped = read.passesSkipped
            emit(result)
        }
    }

    static func line(_ image: Truth.Image, _ decoder: String, _ texts: [String], _ ms: Double) -> Line {
        let truth = Set(image.texts)
        let found = Set(texts)
        return Line(
            file: image.file, category: image.category, decoder: decoder, expected: truth.count,
            read: truth.intersection(found).count, extra: found.subtracting(truth).count, ms: ms)
    }

    /// The best of `repeats` runs: the machine is shared, and the slowest run says more about it than about us.
    static func best<T>(of repeats: Int, _ body: () -> T) -> (Double, T) {
        var fastest = Double.infinity
        var result: T?
        for _ in 0..<max(1, repeats) {
            let (elapsed, value) = ScanBenchmark.time(body)
            fastest = min(fastest, elapsed)
            result = value
        }
        return (fastest, result!)
    }

    /// The resident set now, or its peak so far (getrusage), in MiB.
    static func residentMiB(peak: Bool) -> Double {
        if peak {
            var usage = rusage()
            getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
            return Double(usage.ru_maxrss) / 1024
        }
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
    }

    static func emit<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try! encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(data)
    }
}
