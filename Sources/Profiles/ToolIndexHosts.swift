// Placeholder until the resolver lands.
public enum ToolIndexHosts {
    public static let tools = ["pip-index", "npm-registry", "cargo-registry", "go-proxy"]
    public static func resolve(_ tool: String, environment: [String: String], home: String, project: String) -> [String] { [] }
}
