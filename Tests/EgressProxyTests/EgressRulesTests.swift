import XCTest
@testable import EgressProxy

final class EgressRulesTests: XCTestCase {
    func allowed(_ decision: EgressRules.Decision) -> String? {
        if case .allowed(let rule) = decision { return rule.text }
        return nil
    }

    func testHostsWildcardsPortsAndDenyWins() throws {
        let rules = try EgressRules(allow: ["api.example.test", "*.github.test", "db.example.test:5432", "any.example.test:*"],
                                    deny: ["evil.github.test"])
        XCTAssertEqual(allowed(rules.decide(host: "API.Example.Test.", port: 443)), "api.example.test")
        XCTAssertNil(allowed(rules.decide(host: "api.example.test", port: 22)), "an unlisted port")
        XCTAssertEqual(allowed(rules.decide(host: "raw.github.test", port: 443)), "*.github.test")
        XCTAssertNil(allowed(rules.decide(host: "github.test", port: 443)), "a wildcard does not match its apex")
        XCTAssertNil(allowed(rules.decide(host: "xgithub.test", port: 443)))
        XCTAssertEqual(rules.decide(host: "evil.github.test", port: 443), .refused("evil.github.test:443 denied by evil.github.test"))
        XCTAssertEqual(allowed(rules.decide(host: "db.example.test", port: 5432)), "db.example.test:5432")
        XCTAssertNil(allowed(rules.decide(host: "db.example.test", port: 443)))
        XCTAssertEqual(allowed(rules.decide(host: "any.example.test", port: 2222)), "any.example.test:*")
        XCTAssertEqual(rules.decide(host: "other.test", port: 443), .refused("other.test:443 not in allow-list"))
        XCTAssertNil(allowed(rules.decide(host: "bücher.test", port: 443)), "unlisted, in either form")
    }

    /// A URL pasted as an entry stands for its host and port; a path, query, user and scheme go.
    func testAURLEntryIsItsHostAndPort() throws {
        let rules = try EgressRules(allow: ["https://registry.example.test:4873/npm/?x=1", "http://user:pw@plain.example.test/path"],
                                    deny: [])
        XCTAssertEqual(allowed(rules.decide(host: "registry.example.test", port: 4873)), "https://registry.example.test:4873/npm/?x=1")
        XCTAssertNil(allowed(rules.decide(host: "registry.example.test", port: 443)), "the URL's port only")
        XCTAssertEqual(allowed(rules.decide(host: "plain.example.test", port: 80)), "http://user:pw@plain.example.test/path")
        XCTAssertEqual(EgressRules.authority(ofURL: "example.test:22"), "example.test:22", "not a URL: as it is")
    }

    /// RFC 3492's and well-known examples; the encoder is the whole of the conversion.
    func testPunycode() {
        for (unicode, ascii) in [("bücher", "bcher-kva"), ("münchen", "mnchen-3ya"), ("пример", "e1afmkfd"), ("中国", "fiqs8s"),
                                 ("faß", "fa-hia"), ("ドメイン名例", "eckwd4c7cu47r2wf"), ("abc", "abc-")] {
            XCTAssertEqual(IDNA.punycode(unicode.unicodeScalars.map(\.value)), ascii, unicode)
        }
    }

    /// A name written in Unicode and its xn-- form are one name, in rules and requests; deny
    /// still wins; names with spaces, control characters or empty labels are refused.
    func testInternationalizedNamesMatchTheirASCIIForm() throws {
        let rules = try EgressRules(allow: ["bücher.example", "*.пример.test", "xn--mnchen-3ya.example"], deny: ["böse.пример.test"])
        XCTAssertEqual(allowed(rules.decide(host: "xn--bcher-kva.example", port: 443)), "bücher.example")
        XCTAssertEqual(allowed(rules.decide(host: "BÜCHER.example", port: 443)), "bücher.example")
        XCTAssertEqual(allowed(rules.decide(host: "münchen.example", port: 443)), "xn--mnchen-3ya.example")
        XCTAssertEqual(allowed(rules.decide(host: "a.xn--e1afmkfd.test", port: 443)), "*.пример.test")
        XCTAssertEqual(allowed(rules.decide(host: "bücher\u{3002}example\u{FF0E}", port: 443)), "bücher.example", "ideographic dots")
        XCTAssertEqual(rules.decide(host: "xn--bse-sna.xn--e1afmkfd.test", port: 443),
                       .refused("xn--bse-sna.xn--e1afmkfd.test:443 denied by böse.пример.test"))
        XCTAssertEqual(EgressRules.normalize("Bücher.Example."), "xn--bcher-kva.example")
        for bad in ["bü cher.example", "bü\u{0007}.example", "bü..example", "b\u{200B}ü.example", String(repeating: "ü", count: 70) + ".example"] {
            XCTAssertNil(EgressRules.normalize(bad), bad)
            XCTAssertEqual(rules.decide(host: bad, port: 443), .refused("\(bad): not a valid host name"))
        }
    }

    func testAddressesAndCIDRs() throws {
        let rules = try EgressRules(allow: ["203.0.113.0/24", "[2001:db8::1]:443", "198.51.100.7"], deny: ["203.0.113.9"])
        XCTAssertEqual(allowed(rules.decide(host: "203.0.113.5", port: 80)), "203.0.113.0/24")
        XCTAssertNil(allowed(rules.decide(host: "203.0.113.9", port: 80)))
        XCTAssertEqual(allowed(rules.decide(host: "[2001:db8::1]", port: 443)), "[2001:db8::1]:443")
        XCTAssertNil(allowed(rules.decide(host: "2001:db8::2", port: 443)))
        // An address literal never matches a name rule, nor a name an address rule.
        let names = try EgressRules(allow: ["example.test"], deny: [])
        XCTAssertNil(allowed(names.decide(host: "192.0.2.1", port: 443)))
    }

    func testResolvedPrivateAddressesNeedTheExactHostOrAddress() throws {
        let rules = try EgressRules(allow: ["*.wild.test", "exact.test", "10.1.0.0/16"], deny: ["192.168.0.0/16"])
        let wildcard = rules.allow[0], exact = rules.allow[1], network = rules.allow[2]
        for special in ["127.0.0.1", "169.254.169.254", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "0.0.0.0"] {
            XCTAssertNil(allowed(rules.admits(IPAddress(special)!, host: "a.wild.test", port: 443, rule: wildcard)), special)
        }
        XCTAssertNotNil(allowed(rules.admits(IPAddress("93.184.216.34")!, host: "a.wild.test", port: 443, rule: wildcard)))
        XCTAssertNotNil(allowed(rules.admits(IPAddress("127.0.0.1")!, host: "exact.test", port: 443, rule: exact)))
        XCTAssertNotNil(allowed(rules.admits(IPAddress("10.1.2.3")!, host: "10.1.2.3", port: 443, rule: network)))
        XCTAssertNil(allowed(rules.admits(IPAddress("192.168.1.1")!, host: "exact.test", port: 443, rule: exact)), "deny wins after resolution")
    }

    func testBadEntries() {
        for entry in ["", "exa mple.test", "*.", "a.test:0", "a.test:x", "10.0.0.0/33", "[::1", "[::1]x", "bü cher.test", "*.*.test"] {
            XCTAssertThrowsError(try EgressRules(allow: [entry], deny: []), entry)
        }
    }
}

/// Which ports the transparent side listens on.
final class NamedPortsTests: XCTestCase {
    func testThePortsOfNameEntriesWithoutExclusionsAtMostTheLimit() throws {
        let rules = try EgressRules(allow: ["a.test", "b.test:8080", "c.test:*", "10.0.0.0/8:9000", "d.test:3128", "e.test:5432"],
                                    deny: [], defaultPorts: [80, 443])
        XCTAssertEqual(rules.namedPorts(), [80, 443, 3128, 5432, 8080], "no port from :* or from an address entry")
        XCTAssertEqual(rules.namedPorts(excluding: [3128, 5432]), [80, 443, 8080])
        let many = try EgressRules(allow: (1...100).map { "h\($0).test:\(10000 + $0)" }, deny: [])
        XCTAssertEqual(many.namedPorts(limit: 64), Array(10001...10064))
    }
}
