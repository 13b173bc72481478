// swift-tools-version:6.0
import PackageDescription

// sbx is one static executable: it starts in ~1 ms instead of 5-10 ms for a dynamic one,
// and the same file re-executes itself as the sandbox's init (see docs/ARCHITECTURE.md).
let package = Package(
    name: "sbx",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sbx", targets: ["sbx"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // What Swift cannot call directly: clone3, pivot_root, mount_setattr, prctl, ioctl,
        // libseccomp's macros, libcap. Small functions, prefixed sbx_.
        .target(
            name: "CSandbox",
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("cap")]
        ),
        // The sandbox itself: the plan, the supervisor that launches it, the init inside it.
        .target(
            name: "SandboxCore",
            dependencies: ["CSandbox"]
        ),
        // The command line: parses flags into a plan and hands it to SandboxCore.
        .executableTarget(
            name: "sbx",
            dependencies: [
                "SandboxCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [.unsafeFlags(["-static-executable", "-l_FoundationCollections", "-l_FoundationCShims", "-lswiftSynchronization"])]
        ),
        .testTarget(name: "SandboxCoreTests", dependencies: ["SandboxCore"]),
        .testTarget(name: "IntegrationTests", dependencies: ["SandboxCore"]),
    ]
)
