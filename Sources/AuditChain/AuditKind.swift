/// What an audit row records, as a dotted name (`visit.opened`, `records.read`). Each module that
/// writes the log declares its kinds as constants on this type, so a kind is typed where it is
/// written; rows read back keep the plain text, since an old log may hold kinds no longer declared.
public struct AuditKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}
