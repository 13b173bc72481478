import XCTest
@testable import SandboxCore

/// The verdict on unprivileged user namespaces from /proc/sys text as real hosts have it.
final class UserNamespaceKnobsTests: XCTestCase {
    let binary = "/usr/local/bin/sbx"

    func testUbuntu2404RestrictsThroughAppArmorAndTheFixIsAProfile() {
        // Ubuntu 24.04: the Debian patch's knob is there and on; AppArmor restricts.
        let knobs = UserNamespaceKnobs(unprivilegedUsernsClone: "1\n", maxUserNamespaces: "63541\n",
                                       apparmorRestrictUnprivilegedUserns: "1\n")
        let found = knobs.restriction(binary: binary)
        XCTAssertEqual(found?.cause, "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)")
        let fix = found?.fix ?? ""
        XCTAssertTrue(fix.hasPrefix("an AppArmor profile for /usr/local/bin/sbx that grants userns"), fix)
        XCTAssertTrue(fix.contains("profile sbx /usr/local/bin/sbx flags=(unconfined) { userns, }"), fix)
        XCTAssertTrue(fix.contains("sudo apparmor_parser -r /etc/apparmor.d/sbx"), fix)
    }

    func testMaxUserNamespacesZeroDisablesThem() {
        let knobs = UserNamespaceKnobs(maxUserNamespaces: "0\n")
        let found = knobs.restriction(binary: binary)
        XCTAssertEqual(found?.cause, "user namespaces are disabled (user.max_user_namespaces=0)")
        XCTAssertEqual(found?.fix, "'sudo sysctl user.max_user_namespaces=15000' (and in /etc/sysctl.d/ to keep it)")
    }

    func testDebianUnprivilegedUsernsCloneZero() {
        // Debian 10 and earlier default; no AppArmor knob on Debian's kernels.
        let knobs = UserNamespaceKnobs(unprivilegedUsernsClone: "0\n", maxUserNamespaces: "31422\n")
        let found = knobs.restriction(binary: binary)
        XCTAssertEqual(found?.cause, "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)")
        XCTAssertEqual(found?.fix, "'sudo sysctl kernel.unprivileged_userns_clone=1' (and in /etc/sysctl.d/ to keep it)")
    }

    func testRootIsExemptFromTheKnobsForUnprivilegedCallers() {
        let knobs = UserNamespaceKnobs(unprivilegedUsernsClone: "0\n", maxUserNamespaces: "63541\n",
                                       apparmorRestrictUnprivilegedUserns: "1\n")
        XCTAssertNil(knobs.restriction(binary: binary, root: true))
        XCTAssertEqual(UserNamespaceKnobs(maxUserNamespaces: "0").restriction(binary: binary, root: true)?.cause,
                       "user namespaces are disabled (user.max_user_namespaces=0)")
    }

    func testOpenHostsAndMissingFilesRestrictNothing() {
        XCTAssertNil(UserNamespaceKnobs(unprivilegedUsernsClone: "1\n", maxUserNamespaces: "31422\n").restriction(binary: binary))
        XCTAssertNil(UserNamespaceKnobs(apparmorRestrictUnprivilegedUserns: "0\n").restriction(binary: binary))
        XCTAssertNil(UserNamespaceKnobs().restriction(binary: binary))
    }
}
