import Foundation

/// One line of a client history (the JSON-lines format of `Docs/HistoryFormat.md`).
public struct HistoryEvent: Hashable, Sendable {
    /// What the line records.
    public enum Kind: String, Sendable { case invoke, ok, fail, info }
    /// The operation, as the format names it (`delete` is this project's extension).
    public enum Function: String, Sendable { case get, put, append, cas, delete }

    /// The client that issued the operation.
    public var process: Int
    /// Call or completion.
    public var kind: Kind
    /// The operation.
    public var function: Function
    /// The key.
    public var key: ByteString
    /// Written value (invoke of put/append/cas) or read value (ok of get; nil when absent).
    public var value: ByteString?
    /// What a cas expects the key to hold (nil: absent).
    public var expected: ByteString?

    /// Makes an event.
    public init(process: Int, kind: Kind, function: Function, key: ByteString, value: ByteString? = nil,
                expected: ByteString? = nil) {
        self.process = process
        self.kind = kind
        self.function = function
        self.key = key
        self.value = value
        self.expected = expected
    }
}

/// A malformed history, naming the line and what is wrong with it.
public struct HistoryError: Error, Equatable, CustomStringConvertible {
    /// The 1-based line, or 0 for the file as a whole.
    public let line: Int
    /// What is wrong.
    public let message: String
    /// `line N: what is wrong`, or just what is wrong for the file as a whole.
    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// A client history: invocations and completions in real-time order.
public struct History: Sendable, Equatable {
    /// The events, in order.
    public var events: [HistoryEvent]

    /// Makes a history of `events`.
    public init(events: [HistoryEvent] = []) { self.events = events }

    private struct Line: Decodable {
        /// Read as a number so that a fraction or an out-of-range integer is named rather than "not valid JSON".
        let process: Double
        let type: String
        let f: String?
        let key: Bytes?
        let value: Bytes?
        let expected: Bytes?
    }

    /// A key or value in a line: a JSON string (its UTF-8 bytes), or `{"hex": "…"}` for bytes that are not
    /// valid UTF-8.
    private struct Bytes: Decodable {
        let value: ByteString
        private enum Keys: String, CodingKey { case hex }
        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                value = ByteString(text)
                return
            }
            guard let object = try? decoder.container(keyedBy: Keys.self) else {
                throw DecodingError.typeMismatch(String.self, DecodingError.Context(
                    codingPath: decoder.codingPath, debugDescription: "neither a string nor {\"hex\": …}"))
            }
            let hex = try object.decode(String.self, forKey: .hex)
            guard let bytes = ByteString(hex: hex) else {
                throw DecodingError.dataCorruptedError(forKey: .hex, in: object, debugDescription: "'\(hex)' is not hex")
            }
            value = bytes
        }
    }

    /// Parses JSON lines (LF or CRLF endings); blank lines are skipped. Throws naming the first bad line.
    public static func parse(jsonLines text: String) throws(HistoryError) -> History {
        var events: [HistoryEvent] = []
        var open: [Int: HistoryEvent] = [:]
        let decoder = JSONDecoder()
        let blank: Set<UInt8> = [0x20, 0x09, 0x0D]
        for (i, raw) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let number = i + 1
            guard !raw.allSatisfy(blank.contains) else { continue }
            let decoded: Line
            do {
                decoded = try decoder.decode(Line.self, from: Data(raw))
            } catch {
                throw HistoryError(line: number, message: "not a history event (\(Self.reason(error)))")
            }
            guard let process = Int(exactly: decoded.process) else {
                throw HistoryError(line: number, message: "process \(decoded.process) is not an integer")
            }
            let line = (process: process, type: decoded.type, f: decoded.f, key: decoded.key?.value, value: decoded.value?.value,
                        expected: decoded.expected?.value)
            guard let kind = HistoryEvent.Kind(rawValue: line.type) else {
                throw HistoryError(line: number, message: "unknown type '\(line.type)'")
            }
            if kind == .invoke {
                guard open[line.process] == nil else {
                    throw HistoryError(line: number, message: "process \(line.process) invokes while its last operation is open")
                }
                guard let fname = line.f, let function = HistoryEvent.Function(rawValue: fname) else {
                    throw HistoryError(line: number, message: "unknown or missing f '\(line.f ?? "")'")
                }
                guard let key = line.key else { throw HistoryError(line: number, message: "invoke without a key") }
                if function != .get && function != .delete && line.value == nil {
                    throw HistoryError(line: number, message: "\(function.rawValue) without a value")
                }
                let event = HistoryEvent(process: line.process, kind: .invoke, function: function, key: key,
                                         value: line.value, expected: line.expected)
                open[line.process] = event
                events.append(event)
            } else {
                guard let call = open.removeValue(forKey: line.process) else {
                    throw HistoryError(line: number, message: "process \(line.process) completes an operation it never invoked")
                }
                if let f = line.f, f != call.function.rawValue {
                    throw HistoryError(line: number, message: "completion f '\(f)' does not match the invoked '\(call.function.rawValue)'")
                }
                events.append(HistoryEvent(process: line.process, kind: kind, function: call.function, key: call.key,
                                           value: line.value, expected: call.expected))
            }
        }
        return History(events: events)
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case Swift.DecodingError.keyNotFound(let key, _): "missing \(key.stringValue)"
        case Swift.DecodingError.typeMismatch(_, let c) where c.codingPath.isEmpty: "the line is not a JSON object"
        case Swift.DecodingError.typeMismatch(let type, let c), Swift.DecodingError.valueNotFound(let type, let c):
            "\(c.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type, expected \(Self.jsonName(type))"
        case Swift.DecodingError.dataCorrupted(let c) where !c.codingPath.isEmpty:
            "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        default: "malformed JSON"
        }
    }

    private static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Double.Type, is Int.Type: "a number"
        default: "an object"
        }
    }

    /// The history as JSON lines, one event per line.
    public func jsonLines() -> String {
        events.map { e in
            var fields = ["\"process\":\(e.process)", "\"type\":\"\(e.kind.rawValue)\"", "\"f\":\"\(e.function.rawValue)\"",
                          "\"key\":\(Self.quote(e.key))"]
            if e.kind == .invoke {
                if let v = e.value { fields.append("\"value\":\(Self.quote(v))") }
                if e.function == .cas { fields.append("\"expected\":\(e.expected.map(Self.quote) ?? "null")") }
            } else if e.kind == .ok && e.function == .get {
                fields.append("\"value\":\(e.value.map(Self.quote) ?? "null")")
            }
            return "{" + fields.joined(separator: ",") + "}\n"
        }.joined()
    }

    /// A key or value as JSON: a string when the bytes are valid UTF-8, else `{"hex":"…"}`.
    private static func quote(_ bytes: ByteString) -> String {
        guard let text = bytes.text else { return "{\"hex\":\"\(bytes.hex)\"}" }
        return quote(text)
    }

    private static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
