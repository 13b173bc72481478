#pragma once
#include <stdint.h>

// Landlock, defined here: Debian's kernel headers (6.1) lack the newer ABI levels.
// The init applies one ruleset: read and execute everywhere, every right below the writable
// mount points; what the ABI level of the running kernel cannot handle is left out.

// The kernel's Landlock ABI level (1 or more), or -errno (-ENOSYS, -EOPNOTSUPP: none).
int sbx_landlock_abi(void);
// The rights this ABI level handles: `directory` ones apply below a directory, the others to a
// single file. `writing` selects the rights that change something.
uint64_t sbx_landlock_rights(int abi, int directory, int writing);
// A ruleset handling every right of `abi`; returns its fd or -errno.
int sbx_landlock_create(int abi);
// A ruleset handling `rights` only (the creation guard's layer); its fd or -errno.
int sbx_landlock_create_handling(uint64_t rights);
// Grants `rights` below (or on) the file `path_fd` refers to; returns 0 or -errno.
int sbx_landlock_allow(int ruleset_fd, int path_fd, uint64_t rights);
// Restricts the calling thread and its future children (needs no_new_privs); 0 or -errno.
int sbx_landlock_restrict(int ruleset_fd);
