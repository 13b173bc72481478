import Foundation
import XCTest

/// Removes the integration tests' scratch directory once, when the whole test run ends (an
/// 86 MB /tmp/sbx-it-PID used to be left by every `make test`). Registered by
/// `Harness.workRoot` the first time a test uses it.
final class ScratchRemoval: NSObject, XCTestObservation {
    private let path: String

    private init(path: String) { self.path = path }

    static func register(_ path: String) {
        guard ProcessInfo.processInfo.environment["SBX_KEEP_SCRATCH"] != "1" else { return }
        XCTestObservationCenter.shared.addTestObserver(ScratchRemoval(path: path))
    }

    func testBundleDidFinish(_ testBundle: Bundle) {
        // rm, not FileManager: the sandboxes leave read-only directories and files of sbxtest's.
        Harness.shell(["rm", "-rf", "--one-file-system", path])
    }
}
