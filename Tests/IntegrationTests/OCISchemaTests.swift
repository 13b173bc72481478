import XCTest

/// README: `sbx export seccomp` prints the policy as OCI runtime-spec JSON. Checked against the
/// runtime-spec's own JSON schema (config-schema.json, config-linux.json, defs*.json) as
/// Debian ships it (golang-github-opencontainers-specs-dev, an install dependency), with the
/// jsonschema Python package (python3-jsonschema): the export is put where a container's
/// config.json holds it (`linux.seccomp`). The control: the same export with one value made
/// wrong in each place a mistake could be (an action, an operator, an errno, an architecture)
/// is refused, so the validation is real.
final class OCISchemaTests: XCTestCase {
    static let schemaDirectory = "/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema"

    /// Reads an export on stdin; prints "valid", or "invalid: MESSAGE"; then, for each
    /// spoiled copy, "spoiled NAME: refused" or "spoiled NAME: accepted".
    static let validator = """
        import copy, json, sys, pathlib, jsonschema
        schemas = pathlib.Path(sys.argv[1])
        root = json.loads((schemas / "config-schema.json").read_text())
        store = {p.name: json.loads(p.read_text()) for p in schemas.glob("*.json")}
        resolver = jsonschema.RefResolver(base_uri=schemas.as_uri() + "/", referrer=root,
                                          store={schemas.as_uri() + "/" + n: s for n, s in store.items()})
        validator = jsonschema.Draft4Validator(root, resolver=resolver)
        def check(seccomp):
            errors = sorted(validator.iter_errors({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "linux": {"seccomp": seccomp}}),
                            key=lambda e: list(e.path))
            return "; ".join("%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors[:3])
        export = json.load(sys.stdin)
        problem = check(export)
        print("valid" if not problem else "invalid: " + problem)
        def spoil(name, change):
            bad = copy.deepcopy(export)
            change(bad)
            print("spoiled %s: %s" % (name, "refused" if check(bad) else "accepted"))
        spoil("defaultAction", lambda e: e.__setitem__("defaultAction", "SCMP_ACT_MAYBE"))
        spoil("architecture", lambda e: e.__setitem__("architectures", ["SCMP_ARCH_Z80"]))
        spoil("rule action", lambda e: e["syscalls"][0].__setitem__("action", "ALLOW"))
        spoil("names", lambda e: e["syscalls"][0].__setitem__("names", []))
        with_args = next(r for r in export["syscalls"] if r.get("args"))
        spoil("operator", lambda e: next(r for r in e["syscalls"] if r.get("args"))["args"][0].__setitem__("op", "SCMP_CMP_ALMOST"))
        spoil("errno", lambda e: next(r for r in e["syscalls"] if "errnoRet" in r).__setitem__("errnoRet", -1))
        """

    func testExportIsValidAgainstTheRuntimeSpecSchema() throws {
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.schemaDirectory + "/config-schema.json"),
                      "the runtime-spec schema is missing: run scripts/install-deps (golang-github-opencontainers-specs-dev)")
        let project = Harness.makeProject(for: .current)
        FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("""
            [seccomp]
            nested_userns = true
            allow = ["io_uring_setup"]
            deny = ["getppid:EACCES", "socket(a0 == 2):ENETUNREACH", "personality(a0 == 0xffffffff)", "ioctl(a1 & 0xffff == 0x5401)"]
            """.utf8))
        let spoiled = ["defaultAction", "architecture", "rule action", "names", "operator", "errno"].map { "spoiled \($0): refused\n" }.joined()
        for profile in [[], ["--profile", "./p.toml"], ["--profile", "claude-code"]] {
            let exported = Harness.sbx(["export", "seccomp"] + profile, as: .current, in: project)
            XCTAssertEqual(exported.status, 0, "\(profile): \(exported.stderr)")
            let input = project + "/export.json"
            FileManager.default.createFile(atPath: input, contents: Data(exported.stdout.utf8))
            let checked = Harness.launch(["/bin/sh", "-c", "exec /usr/bin/python3 -c \"$0\" \"$1\" < \"$2\"", Self.validator, Self.schemaDirectory, input],
                                         as: .current, in: project).finish()
            XCTAssertEqual(checked.stdout, "valid\n" + spoiled, "\(profile): \(checked.stderr)")
        }
    }
}
