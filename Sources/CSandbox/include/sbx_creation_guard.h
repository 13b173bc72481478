#pragma once
#include <stdint.h>
#include <sys/types.h>

// The creation guard: missing protected paths that no command in the sandbox can create.
// The command runs under an extra Landlock layer that refuses to create names directly in the
// directories holding them (the kernel's wall, which no race can get past), and under a
// seccomp filter that reports every syscall creating a name to the init (pid 1). The init
// performs those the layer would wrongly refuse (any name but the protected ones, in those
// directories) with its own copy of the arguments, and lets the kernel run the others.

// A directory, by device and inode.
typedef struct { uint64_t dev; uint64_t ino; } sbx_guard_directory;
// A protected name that must not be created: `name` in the directory `parent`.
typedef struct { sbx_guard_directory parent; const char *name; } sbx_guard_name;

// Loads the guard's seccomp filter into the calling process; returns the listener fd or -errno.
int sbx_guard_load_filter(void);
// What the init serves by: the protected names, the directories the extra Landlock layer
// grants creation below, and those it refuses creation in (the directories holding protected
// names and the ones above them, up to a writable mount point): the init creates names below
// those, down to a granted one. Copies them; returns 0 or -errno.
int sbx_guard_configure(const sbx_guard_name *names, int name_count,
                        const sbx_guard_directory *grants, int grant_count,
                        const sbx_guard_directory *refused, int refused_count);
// Asks the kernel to switch to the init at once on a notification (Linux 6.6; else nothing).
void sbx_guard_prefer_sync_wakeup(int listener);
// Answers one notification from `listener`: 0, or -errno when the listener is unusable.
int sbx_guard_serve(int listener);
// The Landlock rights the extra layer handles (and grants below `grants`).
uint64_t sbx_guard_landlock_rights(int abi);
