/// Rejects the inputs that TOMLKit's parser (toml++ 3) mishandles, before it sees them. toml++
/// asserts on some malformed inputs: a debug build aborts, a release build runs into undefined
/// behaviour. Each case below was found by fuzz/ and is invalid TOML anyway.
///
/// - A NUL byte: TOMLKit hands the text over as a C string, so everything after a NUL would
///   be silently ignored. TOML forbids the character.
/// - A table header whose name does not start with a key character or a quote (`[,`,
///   `[[ =`, or a `[` ending its line).
/// - A `}` where an array expects a value (`[ }`, `[1, }`).
///
/// This is a lexical scan (strings and comments skipped, brackets counted), not a parser:
/// everything else is left to toml++.
enum TOMLInputGuard {
    static func check(_ text: String, source: String) throws {
        var scanner = Scanner(bytes: Array(text.utf8))
        if let (line, column, message) = scanner.firstProblem() {
            throw ProfileError(Origin(source: source, line: line, column: column), keyPath: nil, "invalid TOML: " + message)
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var lineStart = 0
        /// Unclosed '[' and '{': at depth 0, a '[' opening a line starts a table header.
        var depth = 0
        /// The last byte outside strings and comments that was not blank.
        var previous: UInt8 = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var column: Int { index - lineStart + 1 }

        mutating func firstProblem() -> (Int, Int, String)? {
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case 0:
                    return (line, column, "NUL byte (TOML allows no control characters here)")
                case UInt8(ascii: "\n"):
                    newLine()
                case UInt8(ascii: "#"):
                    while index < bytes.count, bytes[index] != UInt8(ascii: "\n"), bytes[index] != 0 { index += 1 }
                    continue
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    if let problem = skipString(quote: byte) { return problem }
                    previous = byte
                    continue
                case UInt8(ascii: "["):
                    if depth == 0, startsLine(), let offset = malformedHeaderOffset() {
                        return (line, column + offset, "a table header must start with a key name")
                    }
                    depth += 1
                case UInt8(ascii: "{"):
                    depth += 1
                case UInt8(ascii: "]"):
                    depth = max(0, depth - 1)
                case UInt8(ascii: "}"):
                    if previous == UInt8(ascii: "[") || previous == UInt8(ascii: ",") {
                        return (line, column, "'}' where a value was expected")
                    }
                    depth = max(0, depth - 1)
                default:
                    break
                }
                if !isBlank(byte) && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\r") { previous = byte }
                index += 1
            }
            return nil
        }

        mutating func newLine() {
            line += 1
            lineStart = index + 1
        }

        /// Moves past a string starting at `index`; multi-line strings (three quotes) may span
        /// lines, and basic strings have backslash escapes. A NUL inside is reported.
        mutating func skipString(quote: UInt8) -> (Int, Int, String)? {
            let triple = index + 2 < bytes.count && bytes[index + 1] == quote && bytes[index + 2] == quote
            index += triple ? 3 : 1
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0 { return (line, column, "NUL byte (TOML allows no control characters here)") }
                if byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                    index += 1
                    if index < bytes.count, bytes[index] == UInt8(ascii: "\n") { newLine() }
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "\n") {
                    newLine()
                    if !triple { index += 1; return nil }  // unterminated: toml++ reports it
                }
                if byte == quote {
                    if !triple { index += 1; return nil }
                    if index + 2 < bytes.count, bytes[index + 1] == quote, bytes[index + 2] == quote {
                        index += 3
                        // Up to two more quotes belong to the content ("""a"""" is a" followed by """).
                        while index < bytes.count, bytes[index] == quote { index += 1 }
                        return nil
                    }
                }
                index += 1
            }
            return nil
        }

        func startsLine() -> Bool {
            bytes[lineStart..<index].allSatisfy(isBlank)
        }

        /// For a header's '[' at `index`: the offset of the first character of its name when
        /// that cannot start a key.
        func malformedHeaderOffset() -> Int? {
            var cursor = index + 1
            if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "[") { cursor += 1 }
            while cursor < bytes.count, isBlank(bytes[cursor]) { cursor += 1 }
            guard cursor < bytes.count else { return nil }  // end of input: toml++ reports it
            let byte = bytes[cursor]
            let startsKey = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
                || byte == UInt8(ascii: "]")
            return startsKey ? nil : cursor - index
        }

        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    }
}
