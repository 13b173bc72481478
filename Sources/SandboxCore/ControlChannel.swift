#if canImport(Glibc)
import Glibc
#endif

/// One end of the socketpair between the supervisor and the sandbox's init.
///
/// The conversation, in order: the cloned child → 'r' (death signal armed); the supervisor
/// writes the uid/gid maps, then → 'g' (the child reads it and execs the init) and the plan as
/// one frame; the init sets up the sandbox and answers with one
/// frame: empty when the command has been started, or the error message when setup failed.
struct ControlChannel {
    let fd: Int32

    /// send with MSG_NOSIGNAL, not write: when the other end is gone (an init that failed
    /// setup and exited) this throws EPIPE instead of a SIGPIPE killing sbx without a word.
    func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SandboxError.system("write to the sandbox control channel", errno: errno) }
            offset += n
        }
    }

    /// Reads exactly `count` bytes; nil when the other end closed before the first byte.
    func readExactly(_ count: Int) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = buffer[offset...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SandboxError.system("read from the sandbox control channel", errno: errno) }
            if n == 0 {
                if offset == 0 { return nil }
                throw SandboxError("the sandbox control channel closed mid-message")
            }
            offset += n
        }
        return buffer
    }

    func sendByte(_ byte: UInt8) throws { try writeAll([byte]) }

    func receiveByte() throws -> UInt8? { try readExactly(1)?.first }

    func sendFrame(_ payload: [UInt8]) throws {
        let n = UInt32(payload.count)
        try writeAll([UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)] + payload)
    }

    /// nil when the other end closed without sending one.
    func receiveFrame() throws -> [UInt8]? {
        guard let header = try readExactly(4) else { return nil }
        let n = header.reversed().reduce(0) { ($0 << 8) | Int($1) }
        if n == 0 { return [] }
        guard let payload = try readExactly(n) else {
            throw SandboxError("the sandbox control channel closed mid-message")
        }
        return payload
    }

    func close() { _ = Glibc.close(fd) }
}
