/// Where a setting came from: a line of a profile file, or a command-line flag.
public struct Origin: Equatable, Sendable, CustomStringConvertible {
    public let source: String
    public let line: Int
    public let column: Int

    public init(source: String, line: Int = 0, column: Int = 0) {
        self.source = source
        self.line = line
        self.column = column
    }

    public static func flag(_ name: String) -> Origin { Origin(source: name) }

    public var description: String { line > 0 ? "\(source):\(line):\(column)" : source }
}

/// A value and where it came from, so `sbx explain` can say why each setting is what it is.
public struct Sourced<Value: Equatable & Sendable>: Equatable, Sendable {
    public let value: Value
    public let origin: Origin

    public init(_ value: Value, _ origin: Origin) {
        self.value = value
        self.origin = origin
    }
}

/// One TOML scalar, as profiles use them.
public enum Scalar: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case bool(Bool)
    case integer(Int)
    case number(Double)

    public var description: String {
        switch self {
        case let .string(s): return s
        case let .bool(b): return String(b)
        case let .integer(i): return String(i)
        case let .number(d): return String(d)
        }
    }
}

/// The value of one schema key in one profile, or merged across several.
public enum Setting: Equatable, Sendable {
    case scalar(Sourced<Scalar>)
    case list([Sourced<Scalar>])
    /// A table of strings (env.set), in key order.
    case map([String: Sourced<String>])
}

/// An error in a profile: names the file, line, column and key path, and what to do.
public struct ProfileError: Error, Equatable, CustomStringConvertible {
    public let origin: Origin
    public let keyPath: String?
    public let message: String

    public init(_ origin: Origin, keyPath: String?, _ message: String) {
        self.origin = origin
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        "\(origin): " + (keyPath.map { $0.isEmpty ? "\"\": " : "\($0): " } ?? "") + message
    }
}
