import TOMLKit

/// One profile file as written: its settings checked against the schema, each with its origin.
public struct ProfileDocument: Sendable {
    public let name: String
    /// The file's path, or "built-in:NAME".
    public let source: String
    public let text: String
    public let extends: [Sourced<String>]
    public let settings: [String: Setting]

    public var description: String? {
        if case let .scalar(value)? = settings["description"], case let .string(text) = value.value { return text }
        return nil
    }
}

/// Reads a profile's TOML (with TOMLKit) into a `ProfileDocument`, rejecting unknown keys,
/// wrong types and malformed values with the file, line, column and key path.
public enum ProfileParser {
    public static func parse(_ text: String, source: String, name: String) throws -> ProfileDocument {
        try TOMLInputGuard.check(text, source: source)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ProfileError(Origin(source: source, line: error.source.begin.line, column: error.source.begin.column),
                               keyPath: nil, "invalid TOML: \(error.description)")
        }
        let locator = KeyLocator(text)
        func origin(_ path: String) -> Origin {
            let (line, column) = locator.locate(path)
            return Origin(source: source, line: line, column: column)
        }

        var settings: [String: Setting] = [:]
        for (key, value) in table {
            if ProfileSchema.sections.contains(key) {
                guard let section = value.table else {
                    throw ProfileError(origin(key), keyPath: key, "must be a table: write [\(key)] on its own line, then its keys")
                }
                for (subkey, subvalue) in section {
                    let path = key + "." + subkey
                    settings[path] = try convert(subvalue, path: path, origin: origin(path), locator: locator)
                }
            } else {
                settings[key] = try convert(value, path: key, origin: origin(key), locator: locator)
            }
        }
        var extends: [Sourced<String>] = []
        if case let .list(items)? = settings.removeValue(forKey: "extends") {
            extends = items.map { Sourced($0.value.description, $0.origin) }
        }
        return ProfileDocument(name: name, source: source, text: text, extends: extends, settings: settings)
    }

    /// `origin` is where the key is written; each element of a list and each entry of a table
    /// (env.set, network.hosts) gets its own line when `locator` finds it, else the key's.
    private static func convert(_ value: TOMLValueConvertible, path: String, origin: Origin,
                                locator: KeyLocator) throws -> Setting {
        guard let key = ProfileSchema.key(path) else {
            let hint = ProfileSchema.suggestion(for: path).map { "; did you mean '\($0)'?" } ?? ""
            throw ProfileError(origin, keyPath: path, "unknown key\(hint) (sbx profile keys lists them all)")
        }
        func fail(_ message: String) -> ProfileError { ProfileError(origin, keyPath: path, message) }

        if key.kind.isList {
            guard let array = value.array else { throw fail("expected a list, e.g. \(path.split(separator: ".").last!) = [...]; found \(describe(value))") }
            var items: [Sourced<Scalar>] = []
            var cursor = (line: origin.line, column: origin.column)
            for element in array {
                var elementOrigin = origin
                if let text = element.string, let found = locator.locate(element: text, from: cursor) {
                    elementOrigin = Origin(source: origin.source, line: found.line, column: found.column)
                    cursor = (found.line, found.column + 1)
                }
                items.append(Sourced(try scalar(element, kind: key.kind) { ProfileError(elementOrigin, keyPath: path, $0) }, elementOrigin))
            }
            return .list(items)
        }
        if key.kind == .stringMap {
            guard let table = value.table else { throw fail("expected a table of strings, e.g. { NAME = \"value\" }; found \(describe(value))") }
            var map: [String: Sourced<String>] = [:]
            for (name, element) in table {
                guard let text = element.string else { throw fail("\(name): expected a string, found \(describe(element))") }
                let found = locator.locate(entry: name, inTable: path)
                map[name] = Sourced(text, found.map { Origin(source: origin.source, line: $0.line, column: $0.column) } ?? origin)
            }
            return .map(map)
        }
        let checked = try scalar(value, kind: key.kind, fail: fail)
        if let problem = LimitRanges.problem(key: path, value: checked) { throw fail(problem) }
        return .scalar(Sourced(checked, origin))
    }

    private static func scalar(_ value: TOMLValueConvertible, kind: ProfileSchema.Kind,
                               fail: (String) -> ProfileError) throws -> Scalar {
        switch kind {
        case .bool:
            guard let b = value.bool else { throw fail("expected true or false, found \(describe(value))") }
            return .bool(b)
        case .integer, .integerList:
            guard let i = value.int else { throw fail("expected an integer, found \(describe(value))") }
            return .integer(i)
        case .number:
            if let d = value.double { return .number(d) }
            if let i = value.int { return .number(Double(i)) }
            throw fail("expected a number, found \(describe(value))")
        case .string, .stringList:
            guard let s = value.string else { throw fail("expected a string, found \(describe(value))") }
            return .string(s)
        case let .choice(choices), let .choiceList(choices):
            guard let s = value.string else { throw fail("expected one of \(choices.joined(separator: ", ")); found \(describe(value))") }
            guard choices.contains(s) else {
                throw fail("'\(s)' is not one of \(choices.joined(separator: ", "))")
            }
            return .string(s)
        case .size:
            guard let s = value.string, Quantity.bytesValue(s) != nil else {  // the range: LimitRanges
                throw fail("expected a size such as \"512M\" or \"2G\", found \(describe(value))")
            }
            return .string(s)
        case .duration:
            guard let s = value.string, Quantity.secondsValue(s) != nil else {
                throw fail("expected a duration such as \"90s\", \"30m\" or \"2h\", found \(describe(value))")
            }
            return .string(s)
        case .stringMap:
            throw fail("expected a table")
        }
    }

    private static func describe(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a number"
        case .bool: return "a boolean"
        case .array: return "a list"
        case .table: return "a table"
        default: return "a date or time"
        }
    }
}

/// Sizes and durations as profiles and flags write them.
public enum Quantity {
    /// "512", "512K", "2G", "1.5G", "2GiB" → bytes, unbounded (`LimitRanges` says how large is too large).
    public static func bytesValue(_ text: String) -> Double? {
        var digits = Substring(text.uppercased())
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) { digits = digits.dropLast(suffix.count); break }
        var multiplier: Double = 1
        if let unit = digits.last, let power = ["K": 1.0, "M": 2.0, "G": 3.0, "T": 4.0][String(unit)] {
            multiplier = pow1024(power)
            digits = digits.dropLast()
        }
        guard let number = Double(digits), number > 0, number.isFinite else { return nil }
        return number * multiplier
    }

    /// "512", "512K", "2G", "1.5G", "2GiB" → bytes; nil beyond `LimitRanges.maximumBytes`.
    public static func bytes(_ text: String) -> UInt64? {
        guard let value = bytesValue(text), value <= LimitRanges.maximumBytes else { return nil }
        return UInt64(value)
    }

    /// "90", "90s", "30m", "2h" → seconds; nil beyond `LimitRanges.maximumSeconds`.
    public static func seconds(_ text: String) -> Double? {
        guard let value = secondsValue(text), value <= LimitRanges.maximumSeconds else { return nil }
        return value
    }

    /// "90", "90s", "30m", "2h" → seconds, unbounded.
    public static func secondsValue(_ text: String) -> Double? {
        var digits = Substring(text)
        var multiplier: Double = 1
        if let unit = digits.last, let factor = ["s": 1.0, "m": 60.0, "h": 3600.0][String(unit)] {
            multiplier = factor
            digits = digits.dropLast()
        }
        guard let number = Double(digits), number > 0, number.isFinite else { return nil }
        return number * multiplier
    }

    private static func pow1024(_ power: Double) -> Double {
        (0..<Int(power)).reduce(1.0) { value, _ in value * 1024 }
    }
}
