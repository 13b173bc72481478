#pragma once

// Brings the loopback interface up in the current network namespace; returns 0 or -errno.
int sbx_loopback_up(void);

// A TCP socket listening on 127.0.0.1:`port` (in the calling process's network namespace):
// the egress proxy's, made by the init and handed to the supervisor. Returns the fd or -errno.
int sbx_listen_loopback(int port);
// Passes `fd` over the unix socket `channel` (SCM_RIGHTS, with one byte); 0 or -errno.
int sbx_send_fd(int channel, int fd);
// Receives a descriptor sent with sbx_send_fd (close-on-exec); the fd or -errno.
int sbx_receive_fd(int channel);
