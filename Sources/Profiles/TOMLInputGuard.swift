/// Rejects the inputs that TOMLKit's parser (toml++ 3) mishandles, before it sees them.
///
/// - A NUL byte: TOMLKit hands the text over as a C string, so everything after a NUL would
///   be silently ignored (a profile could hide keys from a reviewer's editor, or lose them).
///   TOML forbids the character anyway.
/// - A table header whose name starts with a character that cannot start a key (`[,`,
///   `[[ =`, or `[` ending the line): toml++ asserts there, aborting sbx in a debug build and running into undefined
///   behaviour in a release one. Found by fuzz/.
///
/// Headers are recognised line by line, so a line of a multi-line string or nested array that
/// starts the same way is refused too; no profile key holds such a value.
enum TOMLInputGuard {
    static func check(_ text: String, source: String) throws {
        var line = 1
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            defer { line += 1 }
            if let column = rawLine.firstIndex(of: 0).map({ rawLine.distance(from: rawLine.startIndex, to: $0) + 1 }) {
                throw ProfileError(Origin(source: source, line: line, column: column), keyPath: nil,
                                   "invalid TOML: NUL byte (TOML allows no control characters here)")
            }
            if let column = malformedHeaderColumn(Array(rawLine)) {
                throw ProfileError(Origin(source: source, line: line, column: column), keyPath: nil,
                                   "invalid TOML: a table header must start with a key name")
            }
        }
    }

    /// The 1-based column of the offending character when `line` is a table header whose
    /// name does not start with a key character or a quote.
    private static func malformedHeaderColumn(_ line: [UInt8]) -> Int? {
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var index = 0
        while index < line.count, isBlank(line[index]) { index += 1 }
        guard index < line.count, line[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        if index < line.count, line[index] == UInt8(ascii: "[") { index += 1 }
        while index < line.count, isBlank(line[index]) { index += 1 }
        guard index < line.count else { return index + 1 }  // the name on the next line
        let byte = line[index]
        let startsKey = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
            || byte == UInt8(ascii: "]")
        return startsKey ? nil : index + 1
    }
}
