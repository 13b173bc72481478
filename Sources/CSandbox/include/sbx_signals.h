#pragma once
#include <sys/types.h>

// Blocks `signals` and gives each a no-op handler, so they queue for sbx_signals_wait. (A pid 1
// drops signals it has no handler for; the handler makes them arrive.)
int sbx_signals_take(const int *signals, int count);

// Waits for one of `signals` (blocked by sbx_signals_take). Returns the signal number and sets
// *from_kernel when the kernel sent it (a terminal's Ctrl-C or resize reaches every process in
// the foreground group by itself, so forwarding it again would deliver it twice).
// `timeout_ms` < 0 waits forever; returns 0 on timeout, -errno on error.
int sbx_signals_wait(const int *signals, int count, int timeout_ms, int *from_kernel);

// Like sbx_signals_wait without a timeout, but also returns 0 as soon as one of `fds` (at most
// 7; -1 for none) is readable or hung up, with its index in `ready` (the init's socket requests
// for --expose, the creation guard's notifications). Uses a signalfd, made on first use.
int sbx_signals_wait_or_readable(const int *signals, int count, const int *fds, int fd_count, int *from_kernel,
                                 int *ready);

// Empties the signal mask and restores default dispositions, before exec of the command.
void sbx_signals_restore_defaults(void);
