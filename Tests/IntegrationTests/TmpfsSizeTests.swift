import Foundation
import XCTest

/// The sandbox's private /tmp, /dev/shm and /run (issue 13, item 7) have bounded sizes, so a
/// command cannot fill the host's memory through them: writing past the size fails with ENOSPC
/// inside, while a smaller write succeeds. The sizes come from defaults, a profile or flags.
final class TmpfsSizeTests: XCTestCase {
    /// For each directory and its size: half the size written (the control), then the size
    /// again on top (past it); prints what each write did.
    static func fill(_ sizes: [(String, Int)]) -> [String] {
        python("""
            import errno
            for d, size in [\(sizes.map { "(\"\($0.0)\", \($0.1))" }.joined(separator: ", "))]:
                with open(d + "/half", "wb") as f: f.write(b"x" * (size // 2))
                try:
                    with open(d + "/past", "wb") as f: f.write(b"x" * size)
                    print(d, "half written, past written")
                except OSError as e:
                    print(d, "half written, past", errno.errorcode[e.errno])
            """)
    }

    func testWritingPastTheSizeFailsWithENOSPCAndASmallerWriteSucceeds() {
        let sizes = [("/tmp", 4 << 20), ("/dev/shm", 2 << 20), ("/run", 1 << 20)]
        let expected = sizes.map { "\($0.0) half written, past ENOSPC\n" }.joined()
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let flags = Harness.sbx(["run", "--tmp-size", "4M", "--shm-size", "2M", "--run-size", "1M"] + Self.fill(sizes),
                                    as: caller, in: project)
            XCTAssertEqual(flags.stdout, expected, "\(caller): \(flags.stderr)")
            FileManager.default.createFile(atPath: project + "/small.toml", contents: Data(
                "[filesystem]\ntmp_size = \"4M\"\nshm_size = \"2M\"\nrun_size = \"1M\"\n".utf8))
            let profile = Harness.sbx(["run", "--profile", "./small.toml"] + Self.fill(sizes), as: caller, in: project)
            XCTAssertEqual(profile.stdout, expected, "\(caller): \(profile.stderr)")
            // Control: with the default sizes the same writes fit.
            let standard = Harness.sbx(["run"] + Self.fill(sizes), as: caller, in: project)
            XCTAssertEqual(standard.stdout, sizes.map { "\($0.0) half written, past written\n" }.joined(), "\(caller): \(standard.stderr)")
        }
    }

    /// The defaults, as the command sees them: 1G, 256M and 64M (each at most half the host's
    /// memory), never the kernel's half of the RAM each.
    func testTheDefaultSizesAreWhatTheCommandSees() {
        let half = ProcessInfo.processInfo.physicalMemory / 2
        let expected = [UInt64(1) << 30, 256 << 20, 64 << 20].map { String(min($0, half)) }.joined(separator: " ")
        let result = Harness.sbx(["run"] + python("""
            import os
            print(" ".join(str(s.f_blocks * s.f_frsize) for s in map(os.statvfs, ["/tmp", "/dev/shm", "/run"])))
            """), as: Harness.callers.last!, in: Harness.makeProject(for: Harness.callers.last!))
        XCTAssertEqual(result.stdout, expected + "\n", result.stderr)
    }

    /// A size below 1M or above the host's memory is refused before anything runs, naming the
    /// file, line and key, or the flag; `sbx explain` shows the sizes and where they come from.
    func testSizesOutOfRangeAreRefusedAndExplainShowsThem() {
        let project = Harness.makeProject(for: .current)
        FileManager.default.createFile(atPath: project + "/huge.toml", contents: Data("[filesystem]\n\nrun_size = \"100T\"\n".utf8))
        let huge = Harness.sbx(["run", "--profile", "./huge.toml", "--", "/bin/echo", "ran"], as: .current, in: project)
        XCTAssertEqual(huge.status, 125, huge.stderr)
        XCTAssertTrue(huge.stderr.contains("huge.toml:3:1: filesystem.run_size: '100T' is more than this host's memory"), huge.stderr)
        XCTAssertEqual(huge.stdout, "")
        let tiny = Harness.sbx(["explain", "--shm-size", "64K"], as: .current, in: project)
        XCTAssertEqual(tiny.status, 125, tiny.stderr)
        XCTAssertTrue(tiny.stderr.contains("--shm-size: filesystem.shm_size: '64K' is less than the smallest size, 1M"), tiny.stderr)

        let explain = Harness.sbx(["explain", "--tmp-size", "2G"], as: .current, in: project)
        XCTAssertEqual(explain.status, 0, explain.stderr)
        let lines = explain.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(lines.contains { $0.hasPrefix("filesystem.tmp_size") && $0.contains("2G") && $0.hasSuffix("--tmp-size") }, explain.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("/tmp ") && $0.contains("at most 2G (filesystem.tmp_size = 2G, --tmp-size)") }, explain.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("/dev/shm ") && $0.contains("(filesystem.shm_size = 256M, sbx default") }, explain.stdout)
    }
}
