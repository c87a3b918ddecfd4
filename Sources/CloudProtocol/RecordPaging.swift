/// `?page=N&pageSize=M` of a records request: pages count from 1; the size is 1 to 100, 20 when
/// absent. The cloud serves it and the station passes it on, so both read it here.
package struct RecordPaging: Sendable, Equatable {
    package let page: Int
    package let pageSize: Int
    package var offset: Int { (page - 1) * pageSize }

    /// From a query's values (`value(name)`); a bad one is the message that names it and its range.
    package init(value: (String) -> String?) throws(Malformed) {
        func number(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(Malformed) -> Int {
            guard let text = value(name) else { return fallback }
            guard let number = Int(text), range.contains(number) else {
                throw Malformed(
                    description: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        page = try number("page", default: 1, in: 1...100_000)
        pageSize = try number("pageSize", default: 20, in: 1...100)
    }

    package struct Malformed: Error, CustomStringConvertible {
        package let description: String
    }
}
