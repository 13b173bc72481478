/// One thing sbx needs from the host, as `sbx doctor` found it: a line for people, an object
/// for scripts.
public struct HostCheck: Equatable, Sendable {
    public enum Status: String, Sendable {
        case ok
        /// The kernel or the host does not have it.
        case missing
        /// It is there, but a setting or a policy (sysctl, AppArmor, a container) forbids it.
        case restricted
    }

    public let name: String
    public let status: Status
    /// What was found; for an optional check not ok, what a run does without it.
    public let detail: String
    /// The exact fix, where there is one.
    public let fix: String?
    /// Whether a default `sbx run` fails without it (then doctor exits 1).
    public let required: Bool

    public init(name: String, status: Status, detail: String, fix: String? = nil, required: Bool) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
        self.required = required
    }

    /// The last line of every refusal of `sbx run` that the host caused (printed behind "sbx: ").
    public static let doctorPointer = "\nsbx: 'sbx doctor' checks everything sbx needs from this host and gives the fixes"

    /// "name  status  detail. Fix: ..." on one line.
    public var line: String {
        let padded = name + String(repeating: " ", count: max(1, 18 - name.count))
        let state = status.rawValue + String(repeating: " ", count: max(1, 11 - status.rawValue.count))
        return padded + state + detail + (fix.map { ". Fix: " + $0 } ?? "")
    }

    /// {"name":...,"status":...,"detail":...,"fix":... or null,"required":...}
    public var json: String {
        "{\"name\":\(Self.quote(name)),\"status\":\(Self.quote(status.rawValue)),\"detail\":\(Self.quote(detail)),"
            + "\"fix\":\(fix.map(Self.quote) ?? "null"),\"required\":\(required)}"
    }

    /// A JSON string literal.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
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
