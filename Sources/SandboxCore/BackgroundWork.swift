#if canImport(Glibc)
import Glibc
#endif

/// Work done on a thread of its own while the caller goes on, then joined for its result:
/// the supervisor generates the seccomp programs this way while the init starts.
final class BackgroundWork<Value>: ThreadBody, @unchecked Sendable {
    private let work: () throws -> Value
    private var result: Result<Value, Error>?
    private var thread = pthread_t()
    private var joined = false

    init(_ work: @escaping () throws -> Value) throws {
        self.work = work
        super.init()
        let context = Unmanaged.passRetained(self as ThreadBody).toOpaque()
        let rc = pthread_create(&thread, nil, runThreadBody, context)
        if rc != 0 {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            throw SandboxError.system("start a thread", errno: rc)
        }
    }

    override func run() { result = Result { try work() } }

    /// Waits for the work; its value, or what it threw. Again after the first time: the same.
    func join() throws -> Value {
        if !joined {
            pthread_join(thread, nil)
            joined = true
        }
        return try result!.get()
    }
}

/// What a thread started by `BackgroundWork` runs; not generic, so that the C entry point can
/// reach it.
class ThreadBody {
    func run() {}
}

private func runThreadBody(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}
