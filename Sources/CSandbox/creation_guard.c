#define _GNU_SOURCE
#include "sbx_creation_guard.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#if defined(__x86_64__)
#define GUARD_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define GUARD_ARCH AUDIT_ARCH_AARCH64
#else
#error "the creation guard knows x86_64 and aarch64"
#endif

#ifndef __O_TMPFILE
#define __O_TMPFILE 020000000
#endif

// ---- The filter ---------------------------------------------------------------------------

// Syscalls that create a name whatever their arguments (openat and open only with O_CREAT).
static const int creating[] = {
#ifdef SYS_creat
    SYS_creat,
#endif
#ifdef SYS_mkdir
    SYS_mkdir,
#endif
#ifdef SYS_mknod
    SYS_mknod,
#endif
#ifdef SYS_symlink
    SYS_symlink,
#endif
#ifdef SYS_link
    SYS_link,
#endif
#ifdef SYS_rename
    SYS_rename,
#endif
#ifdef SYS_renameat
    SYS_renameat,
#endif
    SYS_openat2, SYS_mkdirat, SYS_mknodat, SYS_symlinkat, SYS_linkat, SYS_renameat2,
    SYS_bind,  // a unix socket's path is a name too (other families: left to the kernel at once)
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ARG_LOW(n) (offsetof(struct seccomp_data, args) + (n) * sizeof(uint64_t))  // little-endian

int sbx_guard_load_filter(void) {
    // Layout (jumps only go forward): arch check, syscall number, one comparison per syscall,
    // then "allow", the two O_CREAT checks, "notify", and a second "allow" they can reach.
    enum { MAX = 64 };
    struct sock_filter p[MAX];
    int n = 0;
    const int creating_count = (int)COUNT(creating);
    const int first_compare = 3;
#ifdef SYS_open
    const int opens = 2;
#else
    const int opens = 1;
#endif
    const int allow = first_compare + 1 + opens + creating_count;  // the x32 check is one slot
    const int check_openat = allow + 1, check_open = allow + 3, notify = allow + 5, allow_again = allow + 6;
    p[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    p[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, GUARD_ARCH, 0, allow - 2);
    p[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    // x32 syscalls: left to the kernel (the Landlock layer still refuses what it must).
    p[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, allow - n - 1, 0); n++;
#else
    p[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
#endif
    p[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, check_openat - n - 1, 0); n++;
#ifdef SYS_open
    p[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, check_open - n - 1, 0); n++;
#endif
    for (int i = 0; i < creating_count; i++) {
        p[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)creating[i], notify - n - 1, 0); n++;
    }
    p[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    p[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(2));
    p[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_CREAT, notify - n - 1, allow_again - n - 1); n++;
    p[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(1));
    p[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_CREAT, notify - n - 1, allow_again - n - 1); n++;
    p[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    p[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    (void)check_open;
    struct sock_fprog program = { .len = (unsigned short)n, .filter = p };
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
    return fd < 0 ? -errno : (int)fd;
}

// ---- What the init serves by -------------------------------------------------------------

static sbx_guard_name *names;
static int name_count;
static sbx_guard_directory *grants;
static int grant_count;
static sbx_guard_directory *refused;
static int refused_count;

int sbx_guard_configure(const sbx_guard_name *given_names, int given_name_count,
                        const sbx_guard_directory *given_grants, int given_grant_count,
                        const sbx_guard_directory *given_refused, int given_refused_count) {
    names = calloc((size_t)given_name_count + 1, sizeof *names);
    grants = calloc((size_t)given_grant_count + 1, sizeof *grants);
    refused = calloc((size_t)given_refused_count + 1, sizeof *refused);
    if (names == NULL || grants == NULL || refused == NULL) return -ENOMEM;
    memcpy(refused, given_refused, (size_t)given_refused_count * sizeof *refused);
    refused_count = given_refused_count;
    for (int i = 0; i < given_name_count; i++) {
        names[i].parent = given_names[i].parent;
        names[i].name = strdup(given_names[i].name);
        if (names[i].name == NULL) return -ENOMEM;
    }
    memcpy(grants, given_grants, (size_t)given_grant_count * sizeof *grants);
    name_count = given_name_count;
    grant_count = given_grant_count;
    return 0;
}

uint64_t sbx_guard_landlock_rights(int abi) {
    // MAKE_CHAR .. MAKE_SYM, and REFER (ABI 2): renames and links into the directories that
    // hold protected names must go through the init too.
    uint64_t rights = (1ULL << 6) | (1ULL << 7) | (1ULL << 8) | (1ULL << 9) | (1ULL << 10) | (1ULL << 11) | (1ULL << 12);
    return abi >= 2 ? rights | (1ULL << 13) : rights;
}

// ---- Serving one notification ------------------------------------------------------------

enum kind { OPEN, MKDIR, MKNOD, SYMLINK, LINK, RENAME, BIND };

// A name in a directory, as the task gave it and as the init resolved it.
struct place {
    int dirfd;                // the task's: AT_FDCWD or a descriptor number
    char path[PATH_MAX];
    int parent;               // the init's descriptor (O_PATH) of the directory, or -1
    char name[NAME_MAX + 1];
};

// Reads a NUL-terminated string from the task's memory, a page at a time (a string near the
// end of a mapping must not fail the read). An observation only: what is decided on it is
// done with this copy, never by letting the task's syscall re-read its memory.
static int read_string(pid_t pid, uint64_t address, char *buffer, size_t size) {
    size_t got = 0;
    while (got < size) {
        size_t chunk = 4096 - ((address + got) & 4095);
        if (chunk > size - got) chunk = size - got;
        struct iovec local = { buffer + got, chunk }, remote = { (void *)(uintptr_t)(address + got), chunk };
        ssize_t read = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (read <= 0) return -1;
        if (memchr(buffer + got, 0, (size_t)read) != NULL) return 0;
        got += (size_t)read;
    }
    return -1;  // longer than PATH_MAX: the kernel refuses it (ENAMETOOLONG) anyway
}

static int read_memory(pid_t pid, uint64_t address, void *buffer, size_t size) {
    struct iovec local = { buffer, size }, remote = { (void *)(uintptr_t)address, size };
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)size ? 0 : -1;
}

// The task's own /proc entries, for names that mean "the caller" (/proc/self, /dev/stdout):
// resolved by the init, they would name the init's.
static void rewrite_self(char *path, pid_t pid) {
    static const struct { const char *prefix; const char *format; } selves[] = {
        { "/proc/self/", "/proc/%d/" }, { "/proc/thread-self/", "/proc/%d/" }, { "/dev/fd/", "/proc/%d/fd/" },
        { "/dev/stdin", "/proc/%d/fd/0" }, { "/dev/stdout", "/proc/%d/fd/1" }, { "/dev/stderr", "/proc/%d/fd/2" },
    };
    for (size_t i = 0; i < COUNT(selves); i++) {
        size_t length = strlen(selves[i].prefix);
        if (strncmp(path, selves[i].prefix, length) != 0) continue;
        char rest[PATH_MAX], rewritten[PATH_MAX];
        snprintf(rest, sizeof rest, "%s", path + length);
        char head[64];
        snprintf(head, sizeof head, selves[i].format, pid);
        if (snprintf(rewritten, sizeof rewritten, "%s%s", head, rest) < (int)sizeof rewritten) strcpy(path, rewritten);
        return;
    }
}

// Opens the directory of `path`'s last component (O_PATH) relative to `base`, and copies
// that component to `name`. Trailing slashes are dropped; "", "." and ".." fail.
static int open_parent(int base, const char *path, int *parent, char *name) {
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    size_t length = strlen(copy);
    while (length > 1 && copy[length - 1] == '/') copy[--length] = 0;
    char *slash = strrchr(copy, '/');
    const char *last = slash ? slash + 1 : copy;
    if (*last == 0 || strcmp(last, ".") == 0 || strcmp(last, "..") == 0 || strlen(last) > NAME_MAX) return -1;
    strcpy(name, last);
    if (slash == NULL) {
        *parent = openat(base, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    } else if (slash == copy) {
        *parent = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    } else {
        *slash = 0;
        *parent = openat(base, copy, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    return *parent < 0 ? -1 : 0;
}

// Resolves `place` for the task `pid` (tid): its parent directory and last name, following a
// last component that is a symlink when `follow` (as open with O_CREAT does), so that the
// name is where the kernel would create it. 0: resolved, and the name does not exist;
// 1: the name exists (nothing would be created); -1: cannot tell.
static int resolve(pid_t pid, struct place *place, int follow) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", place->path);
    rewrite_self(path, pid);
    int base;
    if (path[0] == '/') {
        base = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    } else {
        char link[64];
        if (place->dirfd == AT_FDCWD) snprintf(link, sizeof link, "/proc/%d/cwd", pid);
        else snprintf(link, sizeof link, "/proc/%d/fd/%d", pid, place->dirfd);
        base = open(link, O_PATH | O_CLOEXEC);
    }
    if (base < 0) return -1;
    for (int hops = 0; hops < 40; hops++) {
        int parent;
        if (open_parent(base, path, &parent, place->name) != 0) { close(base); return -1; }
        close(base);
        place->parent = parent;
        struct stat info;
        if (fstatat(parent, place->name, &info, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : -1;
        if (!S_ISLNK(info.st_mode) || !follow) return 1;
        // /proc's links to open files and directories (fd/N, cwd) are followed by the kernel
        // to what they refer to, which exists: nothing is created.
        struct statfs filesystem;
        if (fstatfs(parent, &filesystem) != 0 || filesystem.f_type == PROC_SUPER_MAGIC) return 1;
        ssize_t length = readlinkat(parent, place->name, path, sizeof path - 1);
        if (length <= 0) return -1;
        path[length] = 0;
        rewrite_self(path, pid);
        base = parent;  // a relative target is relative to the link's directory
        place->parent = -1;
    }
    return -1;
}

static int same(const struct stat *info, sbx_guard_directory directory) {
    return (uint64_t)info->st_dev == directory.dev && (uint64_t)info->st_ino == directory.ino;
}

static int listed(const struct stat *info, const sbx_guard_directory *list, int count) {
    for (int i = 0; i < count; i++) {
        if (same(info, list[i])) return 1;
    }
    return 0;
}

// Whether the extra Landlock layer refuses the task to create names in `directory`, where the
// init must do it: walks up as Landlock does (through mount points, by inode): a granted
// directory first, the layer allows it; a refused one first, it does not. Reaching the root
// (a place outside the writable mount points, or the host's own), the kernel decides.
static int init_must_create(int directory) {
    struct statvfs volume;
    if (fstatvfs(directory, &volume) != 0 || (volume.f_flag & ST_RDONLY)) return 0;
    int current = dup(directory), must = 0;
    struct stat previous = { 0 };
    for (int depth = 0; current >= 0 && depth < 4096; depth++) {
        struct stat info;
        if (fstat(current, &info) != 0) break;
        if (listed(&info, grants, grant_count)) break;
        if (listed(&info, refused, refused_count)) { must = 1; break; }
        if (depth > 0 && info.st_dev == previous.st_dev && info.st_ino == previous.st_ino) break;  // "/"
        previous = info;
        int up = openat(current, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        close(current);
        current = up;
    }
    if (current >= 0) close(current);
    return must;
}

static int is_protected(const struct place *place) {
    struct stat info;
    if (fstat(place->parent, &info) != 0) return 1;  // cannot tell: leave it to the kernel's wall
    for (int i = 0; i < name_count; i++) {
        if (same(&info, names[i].parent) && strcmp(place->name, names[i].name) == 0) return 1;
    }
    return 0;
}

static mode_t task_umask(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *status = fopen(path, "re");
    mode_t mask = 022;
    if (status == NULL) return mask;
    while (fgets(line, sizeof line, status) != NULL) {
        unsigned int value;
        if (sscanf(line, "Umask: %o", &value) == 1) { mask = (mode_t)value; break; }
    }
    fclose(status);
    return mask;
}

// A duplicate of the task's descriptor `task_fd` (the same open file), or -1 with errno.
static int task_descriptor(pid_t pid, int task_fd) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return -1;
    int fd = (int)syscall(SYS_pidfd_getfd, pidfd, task_fd, 0);
    int saved = errno;
    close(pidfd);
    errno = saved;
    return fd;
}

// Binds the task's socket (a duplicate of its descriptor: the same socket) at the place: from
// the init's descriptor of the directory, never by resolving the path again. The socket's name
// (getsockname) is then the last component, as for a relative bind. 0 or -1 with errno.
static int bind_for(pid_t pid, int task_fd, const struct place *place) {
    int socket_fd = task_descriptor(pid, task_fd);
    if (socket_fd < 0) return -1;
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    snprintf(address.sun_path, sizeof address.sun_path, "%s", place->name);
    int rc = fchdir(place->parent) == 0 ? bind(socket_fd, (struct sockaddr *)&address, sizeof address) : -1;
    int saved = errno;
    if (chdir("/") != 0) { /* the init's directory only matters for names it resolves wrongly */ }
    close(socket_fd);
    errno = saved;
    return rc;
}

// Links the task's descriptor `task_fd` (an O_TMPFILE file) at the place; 0 or -1 with errno.
static int link_descriptor(pid_t pid, int task_fd, const struct place *place) {
    int fd = task_descriptor(pid, task_fd);
    if (fd < 0) return -1;
    int rc = linkat(fd, "", place->parent, place->name, AT_EMPTY_PATH);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

static int respond(int listener, uint64_t id, int error, int64_t value, uint32_t flags) {
    struct seccomp_notif_resp response = { .id = id, .val = value, .error = error, .flags = flags };
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) == 0 || errno == ENOENT ? 0 : -errno;
}

static int let_kernel_run(int listener, uint64_t id) {
    return respond(listener, id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

static void release(struct place *place) {
    if (place->parent >= 0) close(place->parent);
    place->parent = -1;
}

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, uint64_t)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

void sbx_guard_prefer_sync_wakeup(int listener) {
    // Linux 6.6: the task that notifies hands its CPU to the init directly, instead of waking
    // it through the scheduler; most of a round trip's cost. Older kernels refuse: no matter.
    (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

int sbx_guard_serve(int listener) {
    // RECV waits for a notification: only call it when one is there. A hang-up alone means no
    // process is left under the filter.
    struct pollfd ready = { listener, POLLIN, 0 };
    if (poll(&ready, 1, 0) < 0) return errno == EINTR ? 0 : -errno;
    if (!(ready.revents & POLLIN)) return ready.revents & (POLLHUP | POLLERR | POLLNVAL) ? -EPIPE : 0;
    struct seccomp_notif request;
    memset(&request, 0, sizeof request);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) {
        // ENOENT: the task died (or was signalled) before we read its notification.
        return errno == ENOENT || errno == EINTR ? 0 : -errno;
    }
    const pid_t pid = (pid_t)request.pid;
    const uint64_t *a = request.data.args;
    struct place first = { .dirfd = AT_FDCWD, .parent = -1 }, second = { .dirfd = AT_FDCWD, .parent = -1 };
    uint64_t first_address = 0, second_address = 0, flags = 0, mode = 0, device = 0;
    enum kind kind;
    int socket_fd = -1;
    int two = 0;     // `first` is a source (link, rename), `second` the name created
    char target[PATH_MAX];  // a symlink's contents
    switch (request.data.nr) {
    case SYS_openat: kind = OPEN; first.dirfd = (int)a[0]; first_address = a[1]; flags = a[2]; mode = a[3]; break;
    case SYS_openat2: {
        struct { uint64_t flags, mode, resolve; } how;
        if (a[3] < sizeof how || read_memory(pid, a[2], &how, sizeof how) != 0 || how.resolve != 0) {
            return let_kernel_run(listener, request.id);
        }
        kind = OPEN; first.dirfd = (int)a[0]; first_address = a[1]; flags = how.flags; mode = how.mode;
        break;
    }
#ifdef SYS_open
    case SYS_open: kind = OPEN; first_address = a[0]; flags = a[1]; mode = a[2]; break;
#endif
#ifdef SYS_creat
    case SYS_creat: kind = OPEN; first_address = a[0]; flags = O_CREAT | O_WRONLY | O_TRUNC; mode = a[1]; break;
#endif
#ifdef SYS_mkdir
    case SYS_mkdir: kind = MKDIR; first_address = a[0]; mode = a[1]; break;
#endif
    case SYS_mkdirat: kind = MKDIR; first.dirfd = (int)a[0]; first_address = a[1]; mode = a[2]; break;
#ifdef SYS_mknod
    case SYS_mknod: kind = MKNOD; first_address = a[0]; mode = a[1]; device = a[2]; break;
#endif
    case SYS_mknodat: kind = MKNOD; first.dirfd = (int)a[0]; first_address = a[1]; mode = a[2]; device = a[3]; break;
#ifdef SYS_symlink
    case SYS_symlink: kind = SYMLINK; second_address = a[0]; first_address = a[1]; break;
#endif
    case SYS_symlinkat: kind = SYMLINK; second_address = a[0]; first.dirfd = (int)a[1]; first_address = a[2]; break;
#ifdef SYS_link
    case SYS_link: kind = LINK; two = 1; first_address = a[0]; second_address = a[1]; break;
#endif
    case SYS_linkat:
        kind = LINK; two = 1; first.dirfd = (int)a[0]; first_address = a[1]; second.dirfd = (int)a[2];
        second_address = a[3]; flags = a[4];
        break;
#ifdef SYS_rename
    case SYS_rename: kind = RENAME; two = 1; first_address = a[0]; second_address = a[1]; break;
#endif
#ifdef SYS_renameat
    case SYS_renameat:
        kind = RENAME; two = 1; first.dirfd = (int)a[0]; first_address = a[1]; second.dirfd = (int)a[2];
        second_address = a[3];
        break;
#endif
    case SYS_renameat2:
        kind = RENAME; two = 1; first.dirfd = (int)a[0]; first_address = a[1]; second.dirfd = (int)a[2];
        second_address = a[3]; flags = a[4];
        break;
    case SYS_bind: {
        struct sockaddr_un address;
        memset(&address, 0, sizeof address);
        size_t length = a[2] < sizeof address ? (size_t)a[2] : sizeof address;
        // Abstract names (a leading NUL) and other families create nothing in the filesystem.
        if (length <= offsetof(struct sockaddr_un, sun_path) || read_memory(pid, a[1], &address, length) != 0
            || address.sun_family != AF_UNIX || address.sun_path[0] == 0) {
            return let_kernel_run(listener, request.id);
        }
        kind = BIND; socket_fd = (int)a[0];
        memcpy(first.path, address.sun_path, sizeof address.sun_path);
        first.path[sizeof address.sun_path] = 0;
        break;
    }
    default:
        return let_kernel_run(listener, request.id);
    }
    // Opens that create nothing, O_TMPFILE (nameless until linkat, which comes here), links
    // from a descriptor: nothing for the init to do.
    if (kind == OPEN && (!(flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE)) return let_kernel_run(listener, request.id);
    // A link from a descriptor (AT_EMPTY_PATH: an O_TMPFILE file given its name) is tried from a
    // duplicate of it (pidfd_getfd).
    int from_descriptor = kind == LINK && (flags & AT_EMPTY_PATH);
    if (kind == MKNOD && !(S_ISREG(mode) || S_ISFIFO(mode) || S_ISSOCK(mode) || (mode & S_IFMT) == 0)) {
        return let_kernel_run(listener, request.id);  // devices need a capability the sandbox lacks
    }
    if (kind != BIND && read_string(pid, first_address, first.path, sizeof first.path) != 0) return let_kernel_run(listener, request.id);
    if (from_descriptor && first.path[0] != 0) return let_kernel_run(listener, request.id);
    // open("dir/", O_CREAT) makes nothing (EISDIR): the kernel says so.
    if (kind == OPEN && first.path[0] != 0 && first.path[strlen(first.path) - 1] == '/') return let_kernel_run(listener, request.id);
    if (kind == SYMLINK && read_string(pid, second_address, target, sizeof target) != 0) return let_kernel_run(listener, request.id);
    if (two && read_string(pid, second_address, second.path, sizeof second.path) != 0) return let_kernel_run(listener, request.id);

    // Where the name is created: the only place, or the second of two. Anything the init
    // cannot resolve as the kernel would is left to the kernel, whose Landlock layer refuses
    // it where the name would be protected: a wrong answer here can only refuse too much.
    struct place *created = two ? &second : &first;
    int follow = kind == OPEN && !(flags & (O_EXCL | O_NOFOLLOW));
    int state = resolve(pid, created, follow);
    int must;
    if (!two) {
        must = state == 0 && init_must_create(created->parent);
    } else {
        // Link and rename: Landlock wants the right to make the name where it goes (for a
        // rename, even over an existing one), and to move files (REFER) on both sides when
        // the directories differ. The source's last component is never followed (link's
        // AT_SYMLINK_FOLLOW is the init's linkat's to apply).
        if (from_descriptor) {
            must = state == 0 && init_must_create(created->parent);
        } else {
            must = (state == 0 || (state == 1 && kind == RENAME)) && resolve(pid, &first, 0) == 1
                   && (init_must_create(created->parent) || init_must_create(first.parent));
        }
    }
    if (!must || is_protected(created) || ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &request.id) != 0) {
        release(&first);
        release(&second);
        return let_kernel_run(listener, request.id);
    }

    mode_t previous_mask = umask(task_umask(pid));
    int result = 0, error = 0, fd = -1;
    switch (kind) {
    case OPEN:
        fd = openat(created->parent, created->name, (int)flags | O_CLOEXEC, (mode_t)mode);
        if (fd < 0) error = errno;
        break;
    case MKDIR: result = mkdirat(created->parent, created->name, (mode_t)mode); break;
    case MKNOD: result = mknodat(created->parent, created->name, (mode_t)mode, (dev_t)device); break;
    case SYMLINK: result = symlinkat(target, created->parent, created->name); break;
    case LINK:
        if (from_descriptor) {
            result = link_descriptor(pid, first.dirfd, created);
        } else {
            result = linkat(first.parent, first.name, created->parent, created->name, (int)(flags & AT_SYMLINK_FOLLOW));
        }
        break;
    case RENAME: result = (int)syscall(SYS_renameat2, first.parent, first.name, created->parent, created->name, (unsigned)flags); break;
    case BIND: result = bind_for(pid, socket_fd, created); break;
    }
    if (kind != OPEN && result != 0) error = errno;
    umask(previous_mask);
    release(&first);
    release(&second);
    // The kernel links a descriptor only for the credentials that opened it (not the init's):
    // then the task's own call is refused where the layer says so.
    if (from_descriptor && result != 0) return let_kernel_run(listener, request.id);
    if (fd >= 0) {
        struct seccomp_notif_addfd add = {
            .id = request.id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (uint32_t)fd, .newfd = 0,
            .newfd_flags = (uint32_t)(flags & O_CLOEXEC),
        };
        int added = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
        int add_error = errno;
        close(fd);
        if (added >= 0 || add_error == ENOENT) return 0;
        return respond(listener, request.id, -add_error, 0, 0);
    }
    return respond(listener, request.id, error ? -error : 0, 0, 0);
}
