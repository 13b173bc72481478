#define _GNU_SOURCE
#include "sbx_seccomp.h"
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct sbx_seccomp { scmp_filter_ctx ctx; };

static uint32_t action_of(int action, int errno_value) {
    switch (action) {
    case SBX_SECCOMP_ALLOW: return SCMP_ACT_ALLOW;
    case SBX_SECCOMP_ERRNO: return SCMP_ACT_ERRNO((uint16_t)errno_value);
    case SBX_SECCOMP_LOG: return SCMP_ACT_LOG;
    default: return SCMP_ACT_KILL_PROCESS;
    }
}

static enum scmp_compare op_of(int op) {
    switch (op) {
    case SBX_SECCOMP_EQ: return SCMP_CMP_EQ;
    case SBX_SECCOMP_NE: return SCMP_CMP_NE;
    case SBX_SECCOMP_LT: return SCMP_CMP_LT;
    case SBX_SECCOMP_LE: return SCMP_CMP_LE;
    case SBX_SECCOMP_GT: return SCMP_CMP_GT;
    case SBX_SECCOMP_GE: return SCMP_CMP_GE;
    default: return SCMP_CMP_MASKED_EQ;
    }
}

int sbx_seccomp_resolve(const char *name) {
    int number = seccomp_syscall_resolve_name(name);
    // Negative numbers other than the error are libseccomp's pseudo-syscalls: names that
    // exist on other architectures only (socketcall on x86_64).
    return number < 0 ? -1 : number;
}

sbx_seccomp *sbx_seccomp_new(int action, int errno_value, int *error) {
    sbx_seccomp *filter = calloc(1, sizeof *filter);
    if (filter == NULL) { *error = -ENOMEM; return NULL; }
    filter->ctx = seccomp_init(action_of(action, errno_value));
    if (filter->ctx == NULL) { free(filter); *error = -EINVAL; return NULL; }
    int rc = seccomp_attr_set(filter->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    // A binary tree over the syscall numbers instead of a linear list: some 350 rules would
    // otherwise cost hundreds of comparisons for the last syscalls in the list.
    if (rc == 0) rc = seccomp_attr_set(filter->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc != 0) { seccomp_release(filter->ctx); free(filter); *error = rc; return NULL; }
    return filter;
}

int sbx_seccomp_add(sbx_seccomp *filter, int syscall_number, int action, int errno_value,
                    const sbx_seccomp_condition *conditions, unsigned int count) {
    struct scmp_arg_cmp compare[6];
    if (count > 6) return -E2BIG;
    for (unsigned int i = 0; i < count; i++) {
        const sbx_seccomp_condition *c = &conditions[i];
        enum scmp_compare op = op_of(c->op);
        compare[i] = (struct scmp_arg_cmp){
            .arg = c->argument, .op = op,
            .datum_a = op == SCMP_CMP_MASKED_EQ ? c->mask : c->value,
            .datum_b = op == SCMP_CMP_MASKED_EQ ? c->value : 0,
        };
    }
    return seccomp_rule_add_array(filter->ctx, action_of(action, errno_value), syscall_number, count, compare);
}

int sbx_seccomp_export(sbx_seccomp *filter, uint8_t **program, size_t *length) {
    int fd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = seccomp_export_bpf(filter->ctx, fd);
    off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (rc == 0 && size <= 0) rc = -EIO;
    uint8_t *buffer = rc == 0 ? malloc((size_t)size) : NULL;
    if (rc == 0 && buffer == NULL) rc = -ENOMEM;
    if (rc == 0 && pread(fd, buffer, (size_t)size, 0) != size) rc = -EIO;
    close(fd);
    if (rc != 0) { free(buffer); return rc; }
    *program = buffer;
    *length = (size_t)size;
    return 0;
}

void sbx_seccomp_release(sbx_seccomp *filter) {
    seccomp_release(filter->ctx);
    free(filter);
}

int sbx_seccomp_load_program(const uint8_t *program, size_t length) {
    if (length == 0 || length % sizeof(struct sock_filter) != 0 || length / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        return -EINVAL;
    }
    struct sock_fprog prog = { .len = (unsigned short)(length / sizeof(struct sock_filter)), .filter = (struct sock_filter *)program };
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -errno;
}
