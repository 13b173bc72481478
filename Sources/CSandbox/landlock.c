#include "sbx_landlock.h"
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

// The same numbers on x86_64 and aarch64 (the generic syscall table).
#define SBX_NR_landlock_create_ruleset 444
#define SBX_NR_landlock_add_rule 445
#define SBX_NR_landlock_restrict_self 446
#define SBX_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define SBX_LANDLOCK_RULE_PATH_BENEATH 1

#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
#define FS_REMOVE_DIR (1ULL << 4)
#define FS_REMOVE_FILE (1ULL << 5)
#define FS_MAKE_CHAR (1ULL << 6)
#define FS_MAKE_DIR (1ULL << 7)
#define FS_MAKE_REG (1ULL << 8)
#define FS_MAKE_SOCK (1ULL << 9)
#define FS_MAKE_FIFO (1ULL << 10)
#define FS_MAKE_BLOCK (1ULL << 11)
#define FS_MAKE_SYM (1ULL << 12)
#define FS_REFER (1ULL << 13)      // ABI 2: rename and link across directories
#define FS_TRUNCATE (1ULL << 14)   // ABI 3
#define FS_IOCTL_DEV (1ULL << 15)  // ABI 5

struct ruleset_attr { uint64_t handled_access_fs; };
struct path_beneath_attr { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));

int sbx_landlock_abi(void) {
    long abi = syscall(SBX_NR_landlock_create_ruleset, NULL, 0, SBX_LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? -errno : (int)abi;
}

uint64_t sbx_landlock_rights(int abi, int directory, int writing) {
    uint64_t read = FS_EXECUTE | FS_READ_FILE | (directory ? FS_READ_DIR : 0);
    uint64_t write = FS_WRITE_FILE;
    if (directory) {
        write |= FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_CHAR | FS_MAKE_DIR | FS_MAKE_REG | FS_MAKE_SOCK |
                 FS_MAKE_FIFO | FS_MAKE_BLOCK | FS_MAKE_SYM;
        if (abi >= 2) write |= FS_REFER;
    }
    if (abi >= 3) write |= FS_TRUNCATE;
    // Terminal and device ioctls stay allowed everywhere: they are not writes to files.
    if (abi >= 5) read |= FS_IOCTL_DEV;
    return writing ? read | write : read;
}

int sbx_landlock_create(int abi) {
    struct ruleset_attr attr = { .handled_access_fs = sbx_landlock_rights(abi, 1, 1) };
    long fd = syscall(SBX_NR_landlock_create_ruleset, &attr, sizeof attr, 0);
    return fd < 0 ? -errno : (int)fd;
}

int sbx_landlock_create_handling(uint64_t rights) {
    struct ruleset_attr attr = { .handled_access_fs = rights };
    long fd = syscall(SBX_NR_landlock_create_ruleset, &attr, sizeof attr, 0);
    return fd < 0 ? -errno : (int)fd;
}

int sbx_landlock_allow(int ruleset_fd, int path_fd, uint64_t rights) {
    struct path_beneath_attr attr = { .allowed_access = rights, .parent_fd = path_fd };
    return syscall(SBX_NR_landlock_add_rule, ruleset_fd, SBX_LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0 ? -errno : 0;
}

int sbx_landlock_restrict(int ruleset_fd) {
    return syscall(SBX_NR_landlock_restrict_self, ruleset_fd, 0) < 0 ? -errno : 0;
}
