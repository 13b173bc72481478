#if canImport(Glibc)
import Glibc
#endif

/// The sysctls distributions use to restrict unprivileged user namespaces, as read from
/// /proc/sys (nil where this kernel has no such file). Kept apart from the reading so that the
/// verdict can be tested with any host's values.
public struct UserNamespaceKnobs: Equatable, Sendable {
    /// kernel.unprivileged_userns_clone: Debian's (and older Ubuntu's) patch; 0 forbids them.
    public var unprivilegedUsernsClone: String?
    /// user.max_user_namespaces: 0 disables them for everyone.
    public var maxUserNamespaces: String?
    /// kernel.apparmor_restrict_unprivileged_userns: Ubuntu 23.10+; 1 lets only processes
    /// whose AppArmor profile grants `userns` use them with capabilities.
    public var apparmorRestrictUnprivilegedUserns: String?

    public init(unprivilegedUsernsClone: String? = nil, maxUserNamespaces: String? = nil,
                apparmorRestrictUnprivilegedUserns: String? = nil) {
        self.unprivilegedUsernsClone = unprivilegedUsernsClone.map { $0.trimmingWhitespace() }
        self.maxUserNamespaces = maxUserNamespaces.map { $0.trimmingWhitespace() }
        self.apparmorRestrictUnprivilegedUserns = apparmorRestrictUnprivilegedUserns.map { $0.trimmingWhitespace() }
    }

    /// This host's values.
    public static func read() -> UserNamespaceKnobs {
        UserNamespaceKnobs(unprivilegedUsernsClone: CgroupDiscovery.readText("/proc/sys/kernel/unprivileged_userns_clone"),
                           maxUserNamespaces: CgroupDiscovery.readText("/proc/sys/user/max_user_namespaces"),
                           apparmorRestrictUnprivilegedUserns: CgroupDiscovery.readText("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"))
    }

    /// What restricts user namespaces here for the caller and the fix for this distribution,
    /// or nil when none of the knobs does. `binary` is the real path of sbx, which an AppArmor
    /// profile must name. Root is exempt from the knobs for unprivileged callers.
    public func restriction(binary: String, root: Bool = false) -> (cause: String, fix: String)? {
        if !root, apparmorRestrictUnprivilegedUserns == "1" {
            // Ubuntu's own answer: a profile for the program, not the sysctl for everything.
            return ("AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)",
                    "an AppArmor profile for \(binary) that grants userns: write /etc/apparmor.d/sbx with "
                    + "'abi <abi/4.0>, include <tunables/global> profile sbx \(binary) flags=(unconfined) { userns, }' "
                    + "and run 'sudo apparmor_parser -r /etc/apparmor.d/sbx' "
                    + "(or, for every program: 'sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0')")
        }
        if maxUserNamespaces == "0" {
            return ("user namespaces are disabled (user.max_user_namespaces=0)",
                    "'sudo sysctl user.max_user_namespaces=15000' (and in /etc/sysctl.d/ to keep it)")
        }
        if !root, unprivilegedUsernsClone == "0" {
            return ("unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)",
                    "'sudo sysctl kernel.unprivileged_userns_clone=1' (and in /etc/sysctl.d/ to keep it)")
        }
        return nil
    }
}
