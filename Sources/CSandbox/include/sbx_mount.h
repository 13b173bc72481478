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
