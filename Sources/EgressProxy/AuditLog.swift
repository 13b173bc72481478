#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers

/// A run's audit file: one JSON object per line, for the run's start and end (`event`) and for
/// every connection attempt through the proxy, and the counts for the summary sbx prints.
public final class AuditLog: @unchecked Sendable {
    public struct Entry: Sendable {
        var proto: String
        var host: String
        var port: Int
        var address: String?
        var allowed: Bool
        /// The allowing entry, or why it was refused.
        var rule: String
        var bytesUp = 0
        var bytesDown = 0
    }

    public let path: String?
    private let fd: Int32
    private let state = NIOLockedValueBox((allowed: 0, refused: 0, reasons: [String]()))

    /// Appends to `path`; with nil, counts only.
    public init(path: String?) {
        self.path = path
        fd = path.map { open($0, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) } ?? -1
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Removes the file of a run that did not start after all (an --expose port taken), so
    /// that only a run that started has an audit file.
    public func discard() {
        if let path { unlink(path) }
    }

    func record(_ entry: Entry) {
        state.withLockedValue { counts in
            if entry.allowed {
                counts.allowed += 1
            } else {
                counts.refused += 1
                if counts.reasons.count < 3 && !counts.reasons.contains(entry.rule) { counts.reasons.append(entry.rule) }
            }
        }
        guard fd >= 0 else { return }
        let line = "{\"time\":\(Self.now()),\"event\":\"connection\",\"protocol\":\(quote(entry.proto)),"
            + "\"host\":\(quote(entry.host)),\"port\":\(entry.port),\"address\":\(entry.address.map(quote) ?? "null"),"
            + "\"allowed\":\(entry.allowed),\"rule\":\(quote(entry.rule)),\"bytes_up\":\(entry.bytesUp),\"bytes_down\":\(entry.bytesDown)}\n"
        writeLine(line)
    }

    private func writeLine(_ line: String) {
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    private static func now() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return "\(now.tv_sec).\(String(now.tv_nsec / 1_000_000).leftPadded(3))"
    }

    /// A line {"time": ..., "event": NAME, ...fields}; `fields` are (name, JSON value) pairs.
    public func event(_ name: String, _ fields: [(String, String)]) {
        guard fd >= 0 else { return }
        let body = fields.map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",")
        writeLine("{\"time\":\(Self.now()),\"event\":\(quote(name))" + (body.isEmpty ? "" : "," + body) + "}\n")
    }

    /// A JSON string literal, for `event` fields.
    public func json(_ text: String) -> String { quote(text) }

    /// "12 connections allowed, 2 refused (evil.example:443 not in allow-list)"; nil when none.
    public func summary() -> String? {
        state.withLockedValue { counts in
            guard counts.allowed + counts.refused > 0 else { return nil }
            let plural = counts.allowed == 1 ? "connection" : "connections"
            var text = "\(counts.allowed) \(plural) allowed, \(counts.refused) refused"
            if !counts.reasons.isEmpty { text += " (" + counts.reasons.joined(separator: "; ") + ")" }
            // Say how to allow one, not only that it was refused.
            if counts.reasons.contains(where: { $0.contains("not in allow-list") }) {
                text += "; to allow a host: --allow-domain HOST[:PORT], or network.allow in a profile"
            }
            return text
        }
    }

    private func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 { out += "\\u00" + String(scalar.value, radix: 16).leftPadded(2) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
