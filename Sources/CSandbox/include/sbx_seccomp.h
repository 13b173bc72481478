#pragma once
#include <stddef.h>
#include <stdint.h>

// One seccomp filter, built with libseccomp from rules Swift describes (SeccompPolicy), by the
// supervisor while the sandbox starts; its BPF program, as libseccomp generated it, travels to
// the init and is loaded by the command's process right before exec. A syscall from another
// ABI of the machine (i386, x32 on x86_64) kills the process.
typedef struct sbx_seccomp sbx_seccomp;

enum sbx_seccomp_action { SBX_SECCOMP_ALLOW = 0, SBX_SECCOMP_ERRNO = 1, SBX_SECCOMP_KILL = 2, SBX_SECCOMP_LOG = 3 };
enum sbx_seccomp_op {
    SBX_SECCOMP_EQ = 0, SBX_SECCOMP_NE = 1, SBX_SECCOMP_LT = 2, SBX_SECCOMP_LE = 3,
    SBX_SECCOMP_GT = 4, SBX_SECCOMP_GE = 5, SBX_SECCOMP_MASKED_EQ = 6,
};

typedef struct sbx_seccomp_condition {
    unsigned int argument;  // 0-5
    int op;                 // sbx_seccomp_op
    uint64_t mask;          // SBX_SECCOMP_MASKED_EQ only
    uint64_t value;
} sbx_seccomp_condition;

// The native number of a syscall name, or -1 when this architecture has no such syscall.
int sbx_seccomp_resolve(const char *name);
// A filter whose action for syscalls no rule names is `action` (with `errno_value` for ERRNO).
// Returns NULL and sets *error (-errno) when libseccomp refuses.
sbx_seccomp *sbx_seccomp_new(int action, int errno_value, int *error);
// Adds one rule; the conditions are ANDed. Returns 0 or -errno.
int sbx_seccomp_add(sbx_seccomp *filter, int syscall_number, int action, int errno_value,
                    const sbx_seccomp_condition *conditions, unsigned int count);
// The filter's BPF program as libseccomp generates it, in a new buffer (*program, to free());
// 0 or -errno.
int sbx_seccomp_export(sbx_seccomp *filter, uint8_t **program, size_t *length);
// Frees the filter.
void sbx_seccomp_release(sbx_seccomp *filter);
// Loads a program from sbx_seccomp_export into the calling thread, as libseccomp's own load
// does with the attributes sbx uses (no flags; no_new_privs is already set); 0 or -errno.
int sbx_seccomp_load_program(const uint8_t *program, size_t length);
