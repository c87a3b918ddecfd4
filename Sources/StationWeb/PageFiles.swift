/// One file of the front-desk page, as compiled into the binary.
public struct PageFile: Sendable {
    public let contentType: String
    public let body: StaticString
}

/// The front-desk page's files by name (`index.html`, `app.js`…): `page/` compiled in by the EmbedPage
/// plugin, so the daemon serves them with no file beside it and nothing from the network.
public enum PageFiles {
    public static func named(_ name: String) -> PageFile? { embedded[name] }
    public static var names: [String] { embedded.keys.sorted() }
}
