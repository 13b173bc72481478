import XCTest

/// Numeric limits out of range stop sbx with 125 and a message naming the file, line and key,
/// or the flag (LimitRanges), in run, explain and profile check alike.
final class LimitRangeTests: XCTestCase {
    /// Out-of-range limits in a profile used to crash sbx (SIGILL, exit 132) or run; `profile
    /// check` said "ok". Each command now names the file, the line and the key.
    func testOutOfRangeLimitsInAProfileAreRefused() throws {
        let project = Harness.makeProject(for: .current)
        let cases = ["pids = -1": "limits.pids", "pids = 0": "limits.pids", "pids = 99999999": "limits.pids",
                     "cpu = nan": "limits.cpu", "cpu = inf": "limits.cpu", "cpu = -1.0": "limits.cpu", "cpu = 0": "limits.cpu",
                     "memory = \"1e30G\"": "limits.memory", "memory = \"-1G\"": "limits.memory",
                     "timeout = \"1e300s\"": "limits.timeout", "timeout = \"-5s\"": "limits.timeout"]
        for (line, key) in cases {
            let profile = project + "/limits.toml"
            try "[limits]\n\(line)\n".write(toFile: profile, atomically: true, encoding: .utf8)
            for command in [["run", "--profile", profile, "--", "/bin/true"], ["explain", "--profile", profile],
                            ["profile", "check", profile]] {
                let result = Harness.sbx(command, as: .current, in: project)
                XCTAssertEqual(result.status, 125, "\(line), \(command[0]): \(result.stderr)")
                XCTAssertTrue(result.stderr.hasPrefix("sbx: \(profile):2:1: \(key): expected"), "\(line), \(command[0]): \(result.stderr)")
            }
        }
    }

    /// The same for flags, with a negative value given as a separate argument too (it used to
    /// be read as a flag: "Missing value for '--pids <n>'").
    func testOutOfRangeLimitFlagsAreRefused() {
        let project = Harness.makeProject(for: .current)
        let cases: [([String], String)] = [
            (["--pids", "-1"], "--pids"), (["--pids=-1"], "--pids"), (["--pids", "0"], "--pids"),
            (["--timeout", "-1"], "--timeout"), (["--timeout=-1"], "--timeout"), (["--timeout", "1e300s"], "--timeout"),
            (["--memory", "-1G"], "--memory"), (["--memory", "1e30G"], "--memory"),
            (["--cpus", "-1"], "--cpus"), (["--cpus", "nan"], "--cpus"), (["--cpus", "inf"], "--cpus"),
        ]
        for (flags, flag) in cases {
            let result = Harness.sbx(["run"] + flags + ["--", "/bin/true"], as: .current, in: project)
            XCTAssertEqual(result.status, 125, "\(flags): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("sbx: \(flag): expected"), "\(flags): \(result.stderr)")
        }
    }
}
