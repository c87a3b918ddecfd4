extension KeyedDecodingContainer {
    /// A member that may be left out but, when present, must hold a value: JSON `null` is refused as the
    /// wrong type, as the API documents say (Swift's `decodeIfPresent` would take it for absent). Shared
    /// by the station's and the cloud's request bodies.
    public func decodeUnlessAbsent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        contains(key) ? try decode(type, forKey: key) : nil
    }
}
