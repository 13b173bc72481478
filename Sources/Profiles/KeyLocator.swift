/// Finds where a key is written in a profile's text, for error messages and `sbx explain`.
/// TOMLKit reports positions only for syntax errors; this scans the lines for the key under
/// its table header. It locates, it does not parse: the values come from TOMLKit.
struct KeyLocator {
    private let lines: [Substring]
    /// The same lines as bytes, for `locate(element:from:)`.
    private let lineBytes: [[UInt8]]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lineBytes = lines.map { Array($0.utf8) }
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
        // Searched as bytes: a profile's lists hold a hundred entries, and this is start-up.
        let written = [Array(("\"" + text + "\"").utf8), Array(("'" + text + "'").utf8)]
        for index in (from.line - 1)..<lines.count {
            let bytes = lineBytes[index]
            if index > from.line - 1, bytes.first(where: { $0 != 0x20 && $0 != 0x09 }) == UInt8(ascii: "[") { break }
            let start = index == from.line - 1 ? Self.byteOffset(ofColumn: from.column, in: lines[index]) : 0
            for needle in written {
                if let offset = Self.find(needle, in: bytes, from: start) {
                    return (index + 1, String(decoding: bytes[..<offset], as: UTF8.self).count + 1)
                }
            }
        }
        return nil
    }

    /// Where the 1-based character column `column` starts in `line`, in bytes.
    private static func byteOffset(ofColumn column: Int, in line: Substring) -> Int {
        let characters = min(max(column - 1, 0), line.count)
        return line.utf8.distance(from: line.startIndex, to: line.index(line.startIndex, offsetBy: characters))
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        for offset in start...(bytes.count - needle.count) where bytes[offset] == needle[0] {
            if bytes[offset..<(offset + needle.count)].elementsEqual(needle) { return offset }
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
