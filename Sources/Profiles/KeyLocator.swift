/// Finds where a key is written in a profile's text, for error messages and `sbx explain`.
/// TOMLKit reports positions only for syntax errors; this scans the lines for the key under
/// its table header. It locates, it does not parse: the values come from TOMLKit.
struct KeyLocator {
    private let lines: [Substring]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// 1-based line and column of `path` ("section.key" or "key"); the section header when the
    /// key itself cannot be found, else the first line.
    func locate(_ path: String) -> (line: Int, column: Int) {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        guard let key = parts.last else { return (1, 1) }  // an empty key: [""] (found by fuzz/)
        let section = parts.count == 2 ? parts[0] : nil
        var current: String? = nil
        var headerLine: (Int, Int)? = nil
        for (index, raw) in lines.enumerated() {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            let column = raw.count - line.count + 1
            if line.hasPrefix("[") {
                let name = line.dropFirst().prefix { $0 != "]" }.filter { $0 != " " && $0 != "\t" }
                current = String(name)
                if current == path { return (index + 1, column) }  // a table where a key belongs
                if current == section { headerLine = (index + 1, column) }
                continue
            }
            if current == section, startsWithKey(line, key) { return (index + 1, column) }
            if current == nil, let section, startsWithKey(line, section + "." + key) { return (index + 1, column) }
        }
        return headerLine ?? (1, 1)
    }

    /// 1-based line and column of `key` in the table `[table]` written as its own header; nil
    /// when the table is written inline (`hosts = { ... }`) or the key is not found.
    func locate(entry key: String, inTable table: String) -> (line: Int, column: Int)? {
        var inside = false
        for (index, raw) in lines.enumerated() {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("[") {
                inside = line.dropFirst().prefix { $0 != "]" }.filter { $0 != " " && $0 != "\t" } == table
                continue
            }
            if inside, startsWithKey(line, key) { return (index + 1, raw.count - line.count + 1) }
        }
        return nil
    }

    /// 1-based line and column of the string element `text` of a list, written `"text"` or
    /// `'text'`, at or after `from` and before the next table header; nil when it is not
    /// written that way (escapes).
    func locate(element text: String, from: (line: Int, column: Int)) -> (line: Int, column: Int)? {
        guard from.line >= 1, from.line <= lines.count else { return nil }
        for quote in ["\"", "'"] {
            let written = quote + text + quote
            for index in (from.line - 1)..<lines.count {
                var line = Substring(lines[index])
                if index > from.line - 1, line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("[") { break }
                let skipped = index == from.line - 1 ? min(max(from.column - 1, 0), line.count) : 0
                line = line.dropFirst(skipped)
                if let range = line.firstRange(of: written) {
                    return (index + 1, skipped + line.distance(from: line.startIndex, to: range.lowerBound) + 1)
                }
            }
        }
        return nil
    }

    private func startsWithKey(_ line: Substring, _ key: String) -> Bool {
        var rest = line
        if rest.hasPrefix("\"" + key + "\"") {
            rest = rest.dropFirst(key.count + 2)
        } else if rest.hasPrefix(key) {
            rest = rest.dropFirst(key.count)
        } else {
            return false
        }
        return rest.drop { $0 == " " || $0 == "\t" }.first == "="
    }
}
