#pragma once

// The steps sbx_probe tries, in order; the one that failed comes back in *step.
enum sbx_probe_step {
    SBX_PROBE_FORK = 1,
    SBX_PROBE_UNSHARE = 2,
    SBX_PROBE_SETGROUPS = 3,
    SBX_PROBE_UID_MAP = 4,
    SBX_PROBE_GID_MAP = 5,
    SBX_PROBE_MOUNT = 6,
    SBX_PROBE_OVERLAY = 7,
    SBX_PROBE_NO_NEW_PRIVS = 8,
    SBX_PROBE_SECCOMP = 9,
};

// Tries in a forked child what a sandbox needs, so that the caller is left as it was (for
// `sbx doctor`): unshare(`flags`), and with CLONE_NEWUSER among them the one-to-one uid and gid
// maps sbx writes, and with CLONE_NEWNS a first mount (/ made private, as the init's first step;
// this fails where the namespace is made but its capabilities are not usable, as under
// Ubuntu's AppArmor restriction); then, with `overlay_target`, an overlayfs mount there with `overlay_options`;
// with `seccomp` set, no_new_privs and an allow-all seccomp filter. Returns 0, or -errno with
// the step that failed in *step.
int sbx_probe(unsigned long flags, const char *overlay_target, const char *overlay_options, int seccomp, int *step);

// prctl(PR_GET_SECCOMP): 0 (none), 2 (this process is already filtered), or -errno (-EINVAL:
// a kernel without seccomp).
int sbx_seccomp_mode(void);
