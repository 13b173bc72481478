#include "sbx_seccomp.h"
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>

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

int sbx_seccomp_load(sbx_seccomp *filter) {
    return seccomp_load(filter->ctx);
}
