import Foundation
import Testing

/// The documentation stays inside the repository: every relative link resolves, and no page names files or
/// documents a clone does not have.
@Suite struct DocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// README.md and every page of Docs/.
    static func pages() throws -> [URL] {
        let docs = root.appendingPathComponent("Docs")
        let names = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }
        return [root.appendingPathComponent("README.md")] + names.sorted().map { docs.appendingPathComponent($0) }
    }

    @Test func relativeLinksResolveInsideTheRepository() throws {
        let link = try Regex(#"\]\(([^)#\s]+)(#[^)]*)?\)"#)
        var checked = 0
        for page in try Self.pages() {
            let text = try String(contentsOf: page, encoding: .utf8)
            for match in text.matches(of: link) {
                guard let target = match.output[1].substring.map(String.init), !target.contains("://") else { continue }
                let resolved = page.deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL
                #expect(FileManager.default.fileExists(atPath: resolved.path), "\(page.lastPathComponent) links to \(target)")
                #expect(resolved.path.hasPrefix(Self.root.standardizedFileURL.path), "\(page.lastPathComponent): \(target)")
                checked += 1
            }
        }
        #expect(checked > 10)
    }

    @Test func noPageNamesWhatAReaderCannotSee() throws {
        let outside = try Regex(#"(shared/|DESIGN\.md|[Ss]eeds? 00[0-9])"#)
        for page in try Self.pages() {
            let text = try String(contentsOf: page, encoding: .utf8)
            #expect(text.firstMatch(of: outside) == nil, "\(page.lastPathComponent)")
        }
    }
}
