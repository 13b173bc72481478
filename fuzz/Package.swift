// swift-tools-version:5.4
import PackageDescription

// libFuzzer target for the profile loader: any input must be accepted or rejected with an
// error, never crash. Built separately because -sanitize=fuzzer changes how it links.
// Run: fuzz/run [seconds]. Tools version 5.4: newer ones rename the executable's entry point, which
// clashes with the main() libFuzzer brings.
let package = Package(
    name: "sbx-fuzz",
    dependencies: [.package(name: "sbx", path: "..")],
    targets: [
        .executableTarget(
            name: "ProxyParserFuzzer",
            dependencies: [.product(name: "EgressProxy", package: "sbx")],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
        .executableTarget(
            name: "ProfileLoaderFuzzer",
            dependencies: [.product(name: "Profiles", package: "sbx")],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
    ]
)
