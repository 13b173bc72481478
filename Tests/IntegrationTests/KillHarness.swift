import Foundation
import XCTest

/// Kills sbx with SIGKILL at a chosen moment and reports what the run left behind: whether
/// its stdout pipe reached EOF (every process holding it gone) and which processes still carry
/// the run's marker argument. Reusable by any test that checks a killed run cleans up.
enum KillHarness {
    struct Outcome {
        /// The run's stdout pipe reached EOF within the allowed time.
        var pipeClosed: Bool
        /// "pid: cmdline" of every process whose arguments still include the marker.
        var survivors: [String]
        /// What sbx wrote to stderr before it died.
        var stderr: String
    }

    /// A fresh argument to put in the run's command line (sbx's own argv, so also its clone
    /// before the init's exec), found later in /proc.
    static func makeMarker() -> String { "sbx-kill-marker-\(UUID().uuidString.prefix(12))" }

    /// Starts `sbx <arguments>` as `caller` in `directory` with stdout on a pipe, sends it SIGKILL
    /// after `delay` seconds, then waits up to `eofTimeout` seconds for the pipe's EOF and for
    /// the processes carrying `marker` to be gone. `marker` must appear in `arguments`.
    static func startAndKill(_ arguments: [String], marker: String, as caller: Caller, in directory: String,
                             after delay: TimeInterval, eofTimeout: TimeInterval = 5) -> Outcome {
        precondition(arguments.contains { $0.contains(marker) }, "the marker must be one of the arguments")
        var fds: [Int32] = [-1, -1]
        precondition(pipe(&fds) == 0)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let (command, environment) = Harness.prepare([Harness.binary] + arguments, as: caller)
        let stderrPath = "\(Harness.workRoot)/kill-err-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try! process.run()
        close(fds[1])  // ours: the pipe's EOF must depend on the run's processes only
        if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let pipeClosed = readUntilEOF(fds[0], timeout: eofTimeout)
        close(fds[0])
        let deadline = Date().addingTimeInterval(eofTimeout)
        var survivors = processes(withArgument: marker)
        while !survivors.isEmpty && Date() < deadline {
            usleep(20_000)
            survivors = processes(withArgument: marker)
        }
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: stderrPath)
        return Outcome(pipeClosed: pipeClosed, survivors: survivors, stderr: stderr)
    }

    /// Reads and discards until EOF; false when `timeout` passes first.
    static func readUntilEOF(_ fd: Int32, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, left)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return false }
            let got = read(fd, &buffer, buffer.count)
            if got == 0 { return true }
            if got < 0 && errno != EINTR && errno != EAGAIN { return true }
        }
    }

    /// "pid: cmdline" of the live processes with `marker` among their arguments (zombies have none).
    static func processes(withArgument marker: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.allSatisfy(\.isNumber) && Int32($0) != getpid() }.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains(marker) ? "\(pid): " + arguments.joined(separator: " ") : nil
        }
    }
}
