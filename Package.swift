// swift-tools-version:6.0
import PackageDescription

// sbx is one static executable: it starts in ~1 ms instead of 5-10 ms for a dynamic one,
// and the same file re-executes itself as the sandbox's init (see docs/ARCHITECTURE.md).
let package = Package(
    name: "sbx",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sbx", targets: ["sbx"]),
        // For the fuzz package in fuzz/.
        .library(name: "Profiles", targets: ["Profiles"]),
        .library(name: "EgressProxy", targets: ["EgressProxy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
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
        // Declarative profiles: the TOML format, extends and merge rules, variables, built-ins,
        // and the effective policy of a run with the origin of every setting. TOMLKit makes
        // Foundation's String extensions visible here; calling one (e.g. contains("/")) fails
        // the static link, which is intended: Foundation with ICU costs milliseconds at start.
        .target(
            name: "Profiles",
            dependencies: ["TOMLKit"]
        ),
        // The egress proxy in the supervisor: allow/deny rules, HTTP CONNECT, plain HTTP and
        // SOCKS5 on one port (parsers from SwiftNIO), relaying, audit. Threads live here only,
        // never in the sandbox's init.
        .target(
            name: "EgressProxy",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSOCKS", package: "swift-nio-extras"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The command line: parses flags, resolves the policy, hands a plan to SandboxCore.
        .executableTarget(
            name: "sbx",
            dependencies: [
                "SandboxCore",
                "Profiles",
                "EgressProxy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [.unsafeFlags(["-static-executable", "-l_FoundationCollections", "-l_FoundationCShims", "-lswiftSynchronization"])]
        ),
        .testTarget(name: "SandboxCoreTests", dependencies: ["SandboxCore"]),
        .testTarget(name: "ProfilesTests", dependencies: ["Profiles"]),
        .testTarget(name: "EgressProxyTests", dependencies: ["EgressProxy"]),
        .testTarget(name: "IntegrationTests", dependencies: ["SandboxCore"]),
    ]
)
