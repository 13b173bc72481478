#pragma once

// The minimal seccomp filter the isolation core owns: ioctl TIOCSTI and TIOCLINUX (terminal
// input injection) fail with EPERM; a syscall from another ABI (i386, x32) kills the process.
// The request is compared on its low 32 bits only, as the kernel does (CVE-2019-10063).
// Built in the init, loaded by the command's process right before exec.
typedef struct sbx_terminal_filter sbx_terminal_filter;

// Returns NULL and sets *error (-errno) when libseccomp refuses.
sbx_terminal_filter *sbx_terminal_filter_build(int *error);
// Loads it into the calling thread; returns 0 or -errno.
int sbx_terminal_filter_load(sbx_terminal_filter *filter);
