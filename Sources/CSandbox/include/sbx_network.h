#pragma once
#include <stdint.h>

// Brings the loopback interface up in the current network namespace; returns 0 or -errno.
int sbx_loopback_up(void);

// Adds the IPv4 address `address` (network byte order) with prefix length `prefix` to the
// loopback interface, over rtnetlink; returns 0 or -errno.
int sbx_loopback_add_address(uint32_t address, int prefix);
// Routes the IPv4 network `network`/`prefix` (network byte order) to the host itself through
// the loopback interface ("ip route add local NET dev lo"): a connection to any address in it
// reaches the sockets listening on 0.0.0.0. 0 or -errno.
int sbx_loopback_add_local_route(uint32_t network, int prefix);
// A UDP socket bound to `host_address` (host byte order):`port`; the fd or -errno.
int sbx_bind_udp(uint32_t host_address, int port);

// A TCP socket listening on `host_address` (host byte order):`port`, in the calling process's
// network namespace: the proxy's and --host-port's on 127.0.0.1, the transparent side's on
// 0.0.0.0, made by the init and handed to the supervisor. Returns the fd or -errno.
int sbx_listen_tcp(uint32_t host_address, int port);
// A TCP socket bound to [::]:`port` (IPv6 only), not listening: the port is taken for every
// IPv6 address (a server inside cannot bind it) and a connection to it is refused. The fd or
// -errno (-EAFNOSUPPORT without IPv6).
int sbx_reserve_tcp6(int port);
// Answers one request of the init's socket service (--expose) on the SOCK_SEQPACKET `channel`:
// the request is one byte, 4 or 6, and the answer a new, unconnected TCP socket of that family
// made in the calling process's network namespace (a byte without a descriptor when that
// fails). Returns 0, or -EPIPE when the other end has closed, or -errno.
int sbx_serve_socket_request(int channel);
// Connects the TCP socket `fd` to `port` on 127.0.0.1 (or ::1 when `ipv6`), blocking, giving
// up after 5 seconds. Returns 0 or -1 with errno set.
int sbx_connect_loopback(int fd, int port, int ipv6);
// Passes `fd` over the unix socket `channel` (SCM_RIGHTS, with one byte); 0 or -errno.
int sbx_send_fd(int channel, int fd);
// Receives a descriptor sent with sbx_send_fd (close-on-exec); the fd or -errno.
int sbx_receive_fd(int channel);
