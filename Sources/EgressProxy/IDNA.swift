/// Host names with non-ASCII labels, turned into the ASCII form DNS and TLS use ("bücher.de"
/// becomes "xn--bcher-kva.de"), so a rule written either way matches a request written either
/// way. What is done: labels are lowercased (Unicode's mapping), the ideographic full stops
/// are dots, and each non-ASCII label is Punycode-encoded (RFC 3492) with the "xn--" prefix.
/// What is not: Unicode normalisation (NFC) and UTS 46's full mapping table; a name in
/// decomposed form encodes to another name, which is the name then resolved and connected,
/// so it can only miss an allow rule, never slip past a deny rule of the composed form into
/// that same host.
enum IDNA {
    /// The ASCII form of `name`, or nil when a label is empty, too long, or holds spaces or
    /// control characters.
    static func toASCII(_ name: String) -> String? {
        guard name.utf8.count <= 1024 else { return nil }  // the encoder is quadratic in a label
        let dots: Set<Unicode.Scalar> = ["\u{3002}", "\u{FF0E}", "\u{FF61}"]
        var labels: [String] = []
        var current = String.UnicodeScalarView()
        var scalars = Array(name.lowercased().unicodeScalars)
        scalars.append(".")  // ends the last label
        for scalar in scalars {
            if scalar == "." || dots.contains(scalar) {
                guard let label = encode(current) else { return nil }
                labels.append(label)
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        let result = labels.joined(separator: ".")
        return result.utf8.count <= 253 ? result : nil
    }

    private static func encode(_ label: String.UnicodeScalarView) -> String? {
        // An encoded label is at least as long as its scalars: longer than 63 cannot fit.
        guard !label.isEmpty, label.count <= 63 else { return nil }
        for scalar in label {
            switch scalar.properties.generalCategory {
            case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .unassigned, .surrogate, .privateUse:
                return nil
            default:
                continue
            }
        }
        let text = label.allSatisfy(\.isASCII) ? String(label) : punycode(label.map(\.value)).map { "xn--" + $0 }
        guard let text, text.utf8.count <= 63 else { return nil }
        return text
    }

    /// RFC 3492's encoder; nil on overflow (not reachable with labels of DNS length).
    static func punycode(_ input: [UInt32]) -> String? {
        let base: UInt32 = 36, tMin: UInt32 = 1, tMax: UInt32 = 26
        func digit(_ d: UInt32) -> Character { Character(Unicode.Scalar(UInt8(d < 26 ? 97 + d : 22 + d))) }
        func adapt(_ delta: UInt32, _ points: UInt32, _ first: Bool) -> UInt32 {
            var delta = first ? delta / 700 : delta / 2
            delta += delta / points
            var k: UInt32 = 0
            while delta > ((base - tMin) * tMax) / 2 {
                delta /= base - tMin
                k += base
            }
            return k + (base - tMin + 1) * delta / (delta + 38)
        }
        var output = String(String.UnicodeScalarView(input.filter { $0 < 0x80 }.compactMap(Unicode.Scalar.init)))
        let basic = UInt32(output.count)
        var handled = basic
        if basic > 0 { output.append("-") }
        var n: UInt32 = 0x80, delta: UInt32 = 0, bias: UInt32 = 72
        while handled < UInt32(input.count) {
            guard let m = input.filter({ $0 >= n }).min() else { return nil }
            let (step, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= UInt32.max - step else { return nil }
            delta += step
            n = m
            for c in input {
                if c < n {
                    guard delta < UInt32.max else { return nil }
                    delta += 1
                }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basic)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }
}
