import Foundation
import XCTest

/// Who runs sbx in a test. Most users of sbx are not root, so when the tests run as root
/// every escape is also tried through `setpriv` as an unprivileged user.
enum Caller: CustomStringConvertible {
    case current
    case unprivileged

    var description: String { self == .current ? "as \(geteuid() == 0 ? "root" : "the current user")" : "as \(Harness.testUser)" }
}

struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the built `sbx` binary as users run it, and makes the directories the tests need.
enum Harness {
    static let testUser = "sbxtest"
    static let isRoot = geteuid() == 0

    /// Every caller a test should try: both when we are root, else only ourselves.
    static var callers: [Caller] { isRoot ? [.current, .unprivileged] : [.current] }

    /// A scratch directory every test user can enter: /tmp/sbx-it-<pid>, removed when the
    /// test run ends (kept with SBX_KEEP_SCRATCH=1, to look at after a failure).
    static let workRoot: String = {
        let path = "/tmp/sbx-it-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        ScratchRemoval.register(path)
        return path
    }()

    /// Each caller's XDG_STATE_HOME, under the scratch directory: the runs' audit files and
    /// overlay work directories stay out of the caller's real ~/.local/state/sbx. A test that
    /// checks the state directory itself passes its own XDG_STATE_HOME.
    static func stateHome(of caller: Caller) -> String {
        let path = workRoot + (caller == .current ? "/state-c" : "/state-u")
        if mkdir(path, 0o700) == 0 && caller == .unprivileged {
            chown(path, unprivilegedIDs.uid, unprivilegedIDs.gid)
        }
        return path
    }

    /// The sbx under test, copied where the unprivileged user can execute it.
    static let binary: String = {
        let built = ProcessInfo.processInfo.environment["SBX_BIN"] ?? {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return root.appendingPathComponent(".build/debug/sbx").path
        }()
        precondition(FileManager.default.isExecutableFile(atPath: built), "build sbx first (swift build): \(built) is missing")
        let copy = workRoot + "/sbx"
        try? FileManager.default.removeItem(atPath: copy)
        try! FileManager.default.copyItem(atPath: built, toPath: copy)
        chmod(copy, 0o755)
        return copy
    }()

    static let unprivilegedIDs: (uid: uid_t, gid: gid_t) = {
        precondition(isRoot)
        if getpwnam(testUser) == nil {
            let status = shell(["useradd", "--create-home", "--shell", "/bin/sh", testUser])
            precondition(status == 0, "cannot create the test user \(testUser)")
        }
        let entry = getpwnam(testUser)!.pointee
        return (entry.pw_uid, entry.pw_gid)
    }()

    static func home(of caller: Caller) -> String {
        caller == .unprivileged ? "/home/\(testUser)" : (ProcessInfo.processInfo.environment["HOME"] ?? "/root")
    }

    /// A fresh project directory owned by `caller`.
    static func makeProject(for caller: Caller, _ name: String = #function) -> String {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        let path = "\(workRoot)/\(clean)-\(caller == .current ? "c" : "u")-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if caller == .unprivileged { chown(path, unprivilegedIDs.uid, unprivilegedIDs.gid) }
        return path
    }

    /// Runs `sbx <arguments>` in `directory` and waits (at most `timeout` seconds).
    static func sbx(_ arguments: [String], as caller: Caller, in directory: String,
                    environment: [String: String] = [:], timeout: TimeInterval = 30) -> RunResult {
        let process = launch([binary] + arguments, as: caller, in: directory, environment: environment)
        return process.finish(timeout: timeout)
    }

    /// Starts a command (argv[0] an absolute path) as `caller`, with stdout and stderr to files.
    static func launch(_ argv: [String], as caller: Caller, in directory: String,
                       environment: [String: String] = [:]) -> Launched {
        let (command, env) = prepare(argv, as: caller, environment: environment)
        return Launched(command: command, directory: directory, environment: env)
    }

    /// The argv (through setpriv for the unprivileged caller) and environment that run `argv` as `caller`.
    static func prepare(_ argv: [String], as caller: Caller,
                        environment: [String: String] = [:]) -> (command: [String], environment: [String: String]) {
        var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home(of: caller), "LANG": "C.UTF-8",
                   "XDG_STATE_HOME": stateHome(of: caller)]
        if caller == .unprivileged { env["USER"] = testUser; env["LOGNAME"] = testUser }
        env.merge(environment) { $1 }
        var command = argv
        if caller == .unprivileged {
            _ = unprivilegedIDs
            command = ["/usr/bin/setpriv", "--reuid=\(testUser)", "--regid=\(testUser)", "--init-groups", "--"] + argv
        }
        return (command, env)
    }

    /// Runs a host command as the test process; returns its exit status.
    @discardableResult
    static func shell(_ argv: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        try! process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A started process whose output goes to files, so a test can poll it while it runs.
final class Launched {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    init(command: [String], directory: String, environment: [String: String]) {
        let id = UUID().uuidString
        stdoutPath = "\(Harness.workRoot)/out-\(id)"
        stderrPath = "\(Harness.workRoot)/err-\(id)"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try! process.run()
    }

    var pid: pid_t { process.processIdentifier }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    func wait(until condition: () -> Bool, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    func finish(timeout: TimeInterval = 30) -> RunResult {
        if !wait(until: { !process.isRunning }, timeout: timeout) {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            XCTFail("timed out after \(timeout) s: \(process.arguments ?? [])\nstderr: \(stderr)")
        }
        process.waitUntilExit()
        var status = process.terminationStatus
        if process.terminationReason == .uncaughtSignal { status += 128 }
        return RunResult(status: status, stdout: stdout, stderr: stderr)
    }
}

/// A Python program run inside the sandbox by the system interpreter (readable by every user).
func python(_ source: String) -> [String] {
    ["--", "/usr/bin/python3", "-c", source]
}
