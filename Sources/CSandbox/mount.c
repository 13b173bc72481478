#define _GNU_SOURCE
#include "sbx_mount.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif

int sbx_pivot_root(const char *new_root, const char *put_old) {
    return syscall(SYS_pivot_root, new_root, put_old) == 0 ? 0 : -errno;
}

int sbx_mount_set_attributes(const char *path, unsigned long long set_flags, int recursive) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = set_flags;
    unsigned int flags = AT_SYMLINK_NOFOLLOW | (recursive ? AT_RECURSIVE : 0);
    return syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr) == 0 ? 0 : -errno;
}

// An O_PATH descriptor of `path`, refusing any symlink on the way (ELOOP).
static int open_without_symlinks(const char *path) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    return fd < 0 ? -errno : (int)fd;
}

int sbx_bind_without_symlinks(const char *source, const char *target, unsigned long long set_flags, int *step) {
    *step = 0;
    int from = open_without_symlinks(source);
    if (from < 0) return from;
    *step = 1;
    int to = open_without_symlinks(target);
    if (to < 0) { close(from); return to; }
    *step = 2;
    long tree = syscall(SYS_open_tree, from, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    int rc = tree < 0 ? -errno : 0;
    if (rc == 0) {
        *step = 3;
        struct mount_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.attr_set = set_flags;
        if (syscall(SYS_mount_setattr, (int)tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) rc = -errno;
    }
    if (rc == 0) {
        *step = 4;
        if (syscall(SYS_move_mount, (int)tree, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) rc = -errno;
    }
    if (tree >= 0) close((int)tree);
    close(to);
    close(from);
    return rc;
}

int sbx_mount_id(const char *path, unsigned long long *id) {
    struct statx info;
    memset(&info, 0, sizeof info);
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &info) != 0) return -errno;
    if (!(info.stx_mask & STATX_MNT_ID)) return -ENOSYS;
    *id = info.stx_mnt_id;
    return 0;
}
