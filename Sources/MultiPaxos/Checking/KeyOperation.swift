/// One operation on one key, as the linearizability checker sees it: where its call and completion are in the
/// history, and what it did. Explanations and pictures of a failing key are made of these.
public struct KeyOperation: Sendable, Equatable, CustomStringConvertible {
    /// The client that issued it.
    public let process: Int
    /// The operation.
    public let function: HistoryEvent.Function
    /// Written or appended value (put, append, cas).
    public let value: ByteString?
    /// What a cas expects the key to hold (nil: absent).
    public let expected: ByteString?
    /// `.ok`, `.fail` (a cas that found another value) or `.info` (unknown: it may take effect late or never).
    public let outcome: HistoryEvent.Kind
    /// What a get read (nil: absent).
    public let output: ByteString?
    /// Index of the call in the history's events.
    public let callEvent: Int
    /// Index of the completion in the history's events; nil when it never completed.
    public let returnEvent: Int?

    /// Makes an operation.
    public init(process: Int, function: HistoryEvent.Function, value: ByteString? = nil, expected: ByteString? = nil,
                outcome: HistoryEvent.Kind, output: ByteString? = nil, callEvent: Int, returnEvent: Int?) {
        self.process = process
        self.function = function
        self.value = value
        self.expected = expected
        self.outcome = outcome
        self.output = output
        self.callEvent = callEvent
        self.returnEvent = returnEvent
    }

    /// Whether its outcome is known; an unknown one may take effect at any time after its call, or never.
    public var isUnknown: Bool { outcome == .info || outcome == .invoke }

    /// E.g. `put "a"`, `get -> "a"`, `cas "a"->"b" failed`, `append "x" (outcome unknown)`.
    public var description: String {
        let text: String
        switch function {
        case .get: text = isUnknown ? "get" : "get -> \(Self.show(output))"
        case .put: text = "put \(Self.show(value))"
        case .delete: text = "delete"
        case .append: text = "append \(Self.show(value))"
        case .cas: text = "cas \(Self.show(expected))->\(Self.show(value))" + (outcome == .fail ? " failed" : "")
        }
        return isUnknown ? text + " (outcome unknown)" : text
    }

    /// A value as the explanation prints it: quoted, or `absent`; long values are cut in the middle.
    static func show(_ value: ByteString?) -> String {
        guard let value else { return "absent" }
        let text = value.description
        guard text.count > 60 else { return "\"\(text)\"" }
        return "\"\(text.prefix(28))…\(text.suffix(28))\" (\(value.count) bytes)"
    }

    /// The history split by key, each key's operations in call order. A failed operation other than cas certainly
    /// did not take effect and is left out; a call never completed counts as unknown.
    static func partition(_ history: History) -> [(key: ByteString, operations: [KeyOperation])] {
        var perKey: [ByteString: [KeyOperation]] = [:]
        var open: [Int: (index: Int, event: HistoryEvent)] = [:]
        for (index, event) in history.events.enumerated() {
            if event.kind == .invoke {
                open[event.process] = (index, event)
                continue
            }
            guard let (callIndex, call) = open.removeValue(forKey: event.process) else { continue }
            if event.kind == .fail && call.function != .cas { continue }
            perKey[call.key, default: []].append(
                KeyOperation(process: call.process, function: call.function, value: call.value, expected: call.expected,
                             outcome: event.kind, output: event.kind == .ok ? event.value : nil,
                             callEvent: callIndex, returnEvent: index))
        }
        for (_, (callIndex, call)) in open {
            perKey[call.key, default: []].append(
                KeyOperation(process: call.process, function: call.function, value: call.value, expected: call.expected,
                             outcome: .info, callEvent: callIndex, returnEvent: nil))
        }
        return perKey.sorted { $0.key < $1.key }.map { ($0.key, $0.value.sorted { $0.callEvent < $1.callEvent }) }
    }
}
