#define _GNU_SOURCE
#include "sbx_privileges.h"
#include <errno.h>
#include <stddef.h>
#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

int sbx_drop_all_capabilities(const char **step) {
    // Securebits need CAP_SETPCAP, so they go first. NOROOT: uid 0 gets no capabilities
    // from execve; the _LOCKED bits keep anyone from clearing that later.
    unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                         SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
    if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) { *step = "prctl(PR_SET_SECUREBITS)"; return -errno; }
    int last = (int)cap_max_bits() - 1;
    for (int cap = 0; cap <= last; cap++) {
        if (cap_drop_bound((cap_value_t)cap) != 0) { *step = "cap_drop_bound"; return -errno; }
    }
    if (cap_reset_ambient() != 0) { *step = "cap_reset_ambient"; return -errno; }
    cap_t empty = cap_init();
    if (empty == NULL) { *step = "cap_init"; return -errno; }
    int rc = cap_set_proc(empty);
    int saved = errno;
    cap_free(empty);
    if (rc != 0) { *step = "cap_set_proc"; return -saved; }
    return 0;
}

int sbx_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

int sbx_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0) == 0 ? 0 : -errno;
}
