/// The little of DNS the transparent side's resolver needs (RFC 1035): read a standard query
/// with one question, write an answer with at most one A record. Anything else is not a
/// question it answers (`parse` returns nil and the datagram is dropped).
struct DNSQuery: Equatable {
    static let typeA: UInt16 = 1
    static let classIN: UInt16 = 1

    let id: UInt16
    /// Recursion desired, echoed in the answer.
    let recursionDesired: Bool
    /// Lowercased, dot-separated, without the root's trailing dot.
    let name: String
    let type: UInt16
    let questionClass: UInt16
    /// The question as it came, repeated in the answer.
    let question: ArraySlice<UInt8>

    static func parse(_ bytes: [UInt8]) -> DNSQuery? {
        guard bytes.count >= 12 else { return nil }
        func word(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
        let flags = word(2)
        // A query (QR 0), opcode QUERY (0), exactly one question.
        guard flags & 0x8000 == 0, (flags >> 11) & 0xF == 0, word(4) == 1 else { return nil }
        var labels: [String] = []
        var at = 12, length = 0
        while true {
            guard at < bytes.count else { return nil }
            let size = Int(bytes[at])
            at += 1
            if size == 0 { break }
            // No compression in a question; labels of letters, digits, '-' and '_' only.
            guard size <= 63, at + size <= bytes.count, length + size + 1 <= 255 else { return nil }
            let label = bytes[at..<(at + size)]
            guard label.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }) else {
                return nil
            }
            labels.append(String(decoding: label, as: UTF8.self).lowercased())
            length += size + 1
            at += size
        }
        guard !labels.isEmpty, at + 4 <= bytes.count else { return nil }
        return DNSQuery(id: word(0), recursionDesired: flags & 0x0100 != 0, name: labels.joined(separator: "."),
                        type: word(at), questionClass: word(at + 2), question: bytes[12..<(at + 4)])
    }

    enum ResponseCode: UInt16 {
        case noError = 0, nameError = 3, refused = 5
    }

    /// The answer: `code`, and an A record for `address` (4 bytes) when given.
    func answer(_ code: ResponseCode, address: [UInt8]? = nil, ttl: UInt32 = 60) -> [UInt8] {
        var out: [UInt8] = []
        func word(_ value: UInt16) { out += [UInt8(value >> 8), UInt8(value & 0xFF)] }
        word(id)
        // QR, authoritative, recursion available; RD as asked.
        word(0x8000 | 0x0400 | (recursionDesired ? 0x0100 : 0) | 0x0080 | code.rawValue)
        word(1)
        word(address == nil ? 0 : 1)
        word(0)
        word(0)
        out += question
        if let address {
            word(0xC00C)  // the name: a pointer to the question's
            word(Self.typeA)
            word(Self.classIN)
            word(UInt16(ttl >> 16))
            word(UInt16(ttl & 0xFFFF))
            word(UInt16(address.count))
            out += address
        }
        return out
    }
}
