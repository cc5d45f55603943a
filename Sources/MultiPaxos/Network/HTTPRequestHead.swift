/// The request line of a minimal HTTP/1.x request (what a Prometheus scrape sends), parsed from untrusted
/// bytes without trapping: the method, the path (query dropped) and the version; headers are skipped.
struct HTTPRequestHead: Equatable, Sendable {
    /// The largest request head read; a longer one is a bad request.
    static let maxBytes = 8192

    let method: String
    let path: String

    /// What the bytes received so far make.
    enum Parse: Equatable {
        /// The head is not complete yet (no blank line) and within `maxBytes`.
        case incomplete
        /// A complete, well-formed request head.
        case request(HTTPRequestHead)
        /// Not an HTTP/1.x request (or too long): the reason, for the 400 reply.
        case bad(String)
    }

    /// Parses `bytes`, the start of a connection's input.
    static func parse(_ bytes: [UInt8]) -> Parse {
        guard let end = headEnd(bytes) else {
            return bytes.count > maxBytes ? .bad("request head longer than \(maxBytes) bytes") : .incomplete
        }
        guard end <= maxBytes else { return .bad("request head longer than \(maxBytes) bytes") }
        let lineEnd = bytes[..<end].firstIndex(of: UInt8(ascii: "\r")) ?? end
        let line = bytes[..<lineEnd]
        guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return .bad("the request line is not printable ASCII") }
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            return .bad("the request line is not 'METHOD TARGET HTTP/1.x'")
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .bad("version '\(version)' is not HTTP/1.0 or 1.1") }
        let target = parts[1]
        guard target.first == UInt8(ascii: "/") else { return .bad("the target does not start with '/'") }
        let path = target.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false)[0]
        return .request(HTTPRequestHead(method: String(decoding: parts[0], as: UTF8.self), path: String(decoding: path, as: UTF8.self)))
    }

    /// The offset of the blank line (`\r\n\r\n`) that ends the head, if it came.
    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// The response to a parsed head (or a bad one): `GET /metrics` gets `body()` as Prometheus text, another
    /// path 404, another method 405, a bad head 400. Every response closes the connection.
    static func response(to parse: Parse, body: () -> String) -> [UInt8] {
        switch parse {
        case .request(let head) where head.method == "GET" && head.path == "/metrics":
            return respond(200, "OK", contentType: "text/plain; version=0.0.4; charset=utf-8", body: body())
        case .request(let head) where head.method == "GET":
            return respond(404, "Not Found", body: "not found: \(head.path) (metrics are at /metrics)\n")
        case .request(let head):
            return respond(405, "Method Not Allowed", body: "method \(head.method) is not allowed (GET /metrics)\n", allow: true)
        case .bad(let reason):
            return respond(400, "Bad Request", body: "bad request: \(reason)\n")
        case .incomplete:
            return respond(400, "Bad Request", body: "bad request: incomplete\n")
        }
    }

    private static func respond(_ status: Int, _ reason: String, contentType: String = "text/plain; charset=utf-8",
                                body: String, allow: Bool = false) -> [UInt8] {
        let payload = Array(body.utf8)
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(payload.count)\r\n"
            + (allow ? "Allow: GET\r\n" : "") + "Connection: close\r\n\r\n"
        return Array(head.utf8) + payload
    }
}
