import Foundation
import PackagePlugin

/// Stamps the binaries with the station's version (the `VERSION` file) and the commit they were built
/// from (read from the checkout's `.git`, without running git: a build from a source tarball says
/// `unknown`). `vhc --version`, `GET /v1/status` and `GET /metrics` report them.
@main
struct StampBuild: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let version = root.appendingPathComponent("VERSION")
        let git = GitFiles(root: root)
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildInfo.swift")
        return [
            .buildCommand(
                displayName: "Stamping the build with VERSION and the commit",
                executable: try context.tool(named: "stamp-build").url,
                arguments: [output.path, version.path, git.gitDirectory?.path ?? "-", git.commonDirectory?.path ?? "-"],
                inputFiles: [version] + git.inputs,
                outputFiles: [output])
        ]
    }
}

/// The files that name the commit: HEAD, the branch's ref when HEAD points to one, and packed-refs.
struct GitFiles {
    var gitDirectory: URL?
    var commonDirectory: URL?
    var inputs: [URL] = []

    init(root: URL) {
        let dotGit = root.appendingPathComponent(".git")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue {
            gitDirectory = dotGit
        } else if let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir:") {
            // A worktree: `.git` names its own folder, which names the common one.
            let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
            gitDirectory = URL(fileURLWithPath: path, relativeTo: root).standardizedFileURL
        }
        guard let gitDirectory else { return }
        commonDirectory = gitDirectory
        if let common = try? String(contentsOf: gitDirectory.appendingPathComponent("commondir"), encoding: .utf8) {
            commonDirectory = URL(
                fileURLWithPath: common.trimmingCharacters(in: .whitespacesAndNewlines), relativeTo: gitDirectory
            ).standardizedFileURL
        }
        let head = gitDirectory.appendingPathComponent("HEAD")
        inputs.append(head)
        if let text = try? String(contentsOf: head, encoding: .utf8), text.hasPrefix("ref:"), let commonDirectory {
            let ref = text.dropFirst(4).trimmingCharacters(in: .whitespacesAndNewlines)
            let file = commonDirectory.appendingPathComponent(ref)
            if FileManager.default.fileExists(atPath: file.path) { inputs.append(file) }
        }
        if let commonDirectory {
            let packed = commonDirectory.appendingPathComponent("packed-refs")
            if FileManager.default.fileExists(atPath: packed.path) { inputs.append(packed) }
        }
    }
}
