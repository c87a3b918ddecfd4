import Foundation
import PackagePlugin

/// Compiles the front-desk page into the binary: every file of the target's `page/` folder becomes a
/// raw string literal in one generated Swift file (the `embed-page` tool writes it). SwiftPM's own
/// `resources:` would put a bundle beside the binary, and `.embedInCode` compiles slowly; a plugin is the
/// smallest way that keeps the page as plain files a person edits.
@main
struct EmbedPage: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let page = target.directoryURL.appendingPathComponent("page")
        let names = try FileManager.default.contentsOfDirectory(atPath: page.path).filter { !$0.hasPrefix(".") }
            .sorted()
        let inputs = names.map { page.appendingPathComponent($0) }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedPage.swift")
        return [
            .buildCommand(
                displayName: "Embedding the front-desk page (\(names.count) files)",
                executable: try context.tool(named: "embed-page").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
