#include "sbx_terminal_filter.h"
#include <errno.h>
#include <stddef.h>
#include <seccomp.h>
#include <sys/ioctl.h>

struct sbx_terminal_filter { scmp_filter_ctx ctx; };
static struct sbx_terminal_filter the_filter;

static int deny_ioctl(scmp_filter_ctx ctx, unsigned long request) {
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                            SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, request));
}

sbx_terminal_filter *sbx_terminal_filter_build(int *error) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) { *error = -ENOMEM; return NULL; }
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0) rc = deny_ioctl(ctx, TIOCSTI);
    if (rc == 0) rc = deny_ioctl(ctx, TIOCLINUX);
    if (rc != 0) { seccomp_release(ctx); *error = rc; return NULL; }
    the_filter.ctx = ctx;
    return &the_filter;
}

int sbx_terminal_filter_load(sbx_terminal_filter *filter) {
    return seccomp_load(filter->ctx);
}
