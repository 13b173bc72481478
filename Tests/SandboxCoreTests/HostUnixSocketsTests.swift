import XCTest
@testable import SandboxCore

final class HostUnixSocketsTests: XCTestCase {
    func testPathsComeFromThePathColumnOnly() {
        let text = """
            Num       RefCount Protocol Flags    Type St Inode Path
            00000000d673eaf8: 00000003 00000000 00000000 0001 03 886036
            000000007638b080: 00000002 00000000 00010000 0001 01  1073 /run/systemd/notify
            0000000064b2a98e: 00000002 00000000 00010000 0001 01  1074 @/tmp/.X11-unix/X0
            0000000064b2a98f: 00000002 00000000 00010000 0001 01  1075 /var/tmp/a dir/x.sock
            0000000064b2a990: 00000002 00000000 00010000 0001 01  1076 /run/systemd/notify
            0000000064b2a991: 00000002 00000000 00010000 0001 01  1077 relative.sock
            """
        XCTAssertEqual(HostUnixSockets.paths(inProcNetUnix: text), ["/run/systemd/notify", "/var/tmp/a dir/x.sock"])
    }
}
