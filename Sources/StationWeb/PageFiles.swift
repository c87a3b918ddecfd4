/// One file of the front-desk page, as compiled into the binary.
package struct PageFile: Sendable {
    package let contentType: String
    package let body: StaticString
}

/// The front-desk page's files by name (`index.html`, `app.js`…): `page/` compiled in by the EmbedPage
/// plugin, so the daemon serves them with no file beside it and nothing from the network.
package enum PageFiles {
    package static func named(_ name: String) -> PageFile? { embedded[name] }
    package static var names: [String] { embedded.keys.sorted() }
}
