/// What an audit row records, as a dotted name (`visit.opened`, `records.read`). Each module that
/// writes the log declares its kinds as constants on this type, so a kind is typed where it is
/// written; rows read back keep the plain text, since an old log may hold kinds no longer declared.
package struct AuditKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }
    package var description: String { rawValue }
}
