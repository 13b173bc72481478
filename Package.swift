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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
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
        // The command line: parses flags, resolves the policy, hands a plan to SandboxCore.
        .executableTarget(
            name: "sbx",
            dependencies: [
                "SandboxCore",
                "Profiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [.unsafeFlags(["-static-executable", "-l_FoundationCollections", "-l_FoundationCShims", "-lswiftSynchronization"])]
        ),
        .testTarget(name: "SandboxCoreTests", dependencies: ["SandboxCore"]),
        .testTarget(name: "ProfilesTests", dependencies: ["Profiles"]),
        .testTarget(name: "IntegrationTests", dependencies: ["SandboxCore"]),
    ]
)
