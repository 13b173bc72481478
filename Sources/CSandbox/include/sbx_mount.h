#pragma once

// pivot_root(2); returns 0 or -errno.
int sbx_pivot_root(const char *new_root, const char *put_old);

// Flags for sbx_mount_set_attributes (the kernel's MOUNT_ATTR_* values).
enum {
    SBX_MOUNT_RDONLY = 0x00000001,
    SBX_MOUNT_NOSUID = 0x00000002,
    SBX_MOUNT_NODEV = 0x00000004,
    SBX_MOUNT_NOEXEC = 0x00000008,
};

// mount_setattr(2) on `path`: sets `set_flags`, on every mount below it too when `recursive`.
// Unlike a remount, this reaches submounts, so no writable submount leaks through.
// Returns 0 or -errno.
int sbx_mount_set_attributes(const char *path, unsigned long long set_flags, int recursive);

// Binds `source` (and its submounts) at `target` with `set_flags`, like mount --rbind then
// mount_setattr, but each path is opened first with openat2(RESOLVE_NO_SYMLINKS): a symlink
// swapped in after sbx resolved the paths fails with -ELOOP instead of redirecting the mount,
// and the flags are set on the new mount before it is attached, not on a path that could
// change. *step says what failed: 0 open source, 1 open target, 2 clone, 3 flags, 4 attach.
// Returns 0 or -errno.
int sbx_bind_without_symlinks(const char *source, const char *target, unsigned long long set_flags, int *step);

// The id of the mount `path` lies on (statx's STATX_MNT_ID, Linux 5.8+), without following a
// final symlink. overlayfs wants its upper and work directories on the same mount.
// Returns 0 or -errno.
int sbx_mount_id(const char *path, unsigned long long *id);
