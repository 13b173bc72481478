#if canImport(Glibc)
import Glibc
#endif

/// The one error type of the sandbox: a sentence for the user, already saying what failed and,
/// where we know it, what to do. The CLI prints it behind `sbx:` and exits 125.
public struct SandboxError: Error, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    /// "<what>: <strerror(code)>", for a failed system call.
    public static func system(_ what: String, errno code: Int32) -> SandboxError {
        SandboxError("\(what): \(String(cString: strerror(code)))")
    }

    public var description: String { message }
}

/// Checks a libc call that returns -1 and sets errno.
@discardableResult
func checkLibc(_ result: Int32, _ what: @autoclosure () -> String) throws -> Int32 {
    guard result >= 0 else { throw SandboxError.system(what(), errno: errno) }
    return result
}

/// Checks a CSandbox call that returns 0 or -errno.
func checkShim(_ result: Int32, _ what: @autoclosure () -> String) throws {
    guard result >= 0 else { throw SandboxError.system(what(), errno: -result) }
}

extension Int32 {
    /// Closes a file descriptor just returned by a checked call.
    func closing() { _ = Glibc.close(self) }
}
