#include "sbx_network.h"
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <unistd.h>

int sbx_loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ioctl(fd, SIOCGIFFLAGS, &request);
    if (rc == 0) {
        request.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    int saved = errno;
    close(fd);
    return rc == 0 ? 0 : -saved;
}

// Sends one rtnetlink request: a header of `type`, `message` (an ifaddrmsg or an rtmsg of
// `length` bytes) and two 32-bit attributes; reads the kernel's acknowledgement. 0 or -errno.
static int netlink_request(int type, const void *message, size_t length,
                           unsigned short first, uint32_t first_value, unsigned short second, uint32_t second_value) {
    char request[NLMSG_SPACE(64) + 2 * RTA_SPACE(sizeof(uint32_t))] __attribute__((aligned(NLMSG_ALIGNTO)));
    if (NLMSG_SPACE(length) > NLMSG_SPACE(64)) return -EINVAL;
    memset(request, 0, sizeof request);
    struct nlmsghdr *header = (struct nlmsghdr *)request;
    header->nlmsg_len = (unsigned)NLMSG_LENGTH(length);
    header->nlmsg_type = (unsigned short)type;
    header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    header->nlmsg_seq = 1;
    memcpy(NLMSG_DATA(header), message, length);
    unsigned short types[2] = { first, second };
    uint32_t values[2] = { first_value, second_value };
    for (int i = 0; i < 2; i++) {
        struct rtattr *attribute = (struct rtattr *)(request + NLMSG_ALIGN(header->nlmsg_len));
        attribute->rta_type = types[i];
        attribute->rta_len = RTA_LENGTH(sizeof(uint32_t));
        memcpy(RTA_DATA(attribute), &values[i], sizeof(uint32_t));
        header->nlmsg_len = NLMSG_ALIGN(header->nlmsg_len) + RTA_SPACE(sizeof(uint32_t));
    }
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    int rc = 0;
    if (sendto(fd, request, header->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        rc = -errno;
    } else {
        // The acknowledgement: an NLMSG_ERROR whose error is 0 on success.
        char reply[512];
        ssize_t got = recv(fd, reply, sizeof reply, 0);
        struct nlmsghdr *answer = (struct nlmsghdr *)reply;
        if (got < 0) rc = -errno;
        else if (got < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || answer->nlmsg_type != NLMSG_ERROR) rc = -EPROTO;
        else rc = ((struct nlmsgerr *)NLMSG_DATA(answer))->error;
    }
    close(fd);
    return rc;
}

int sbx_loopback_add_address(uint32_t address, int prefix) {
    unsigned int index = if_nametoindex("lo");
    if (index == 0) return -errno;
    struct ifaddrmsg message = {
        .ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix, .ifa_scope = RT_SCOPE_HOST, .ifa_index = index,
    };
    return netlink_request(RTM_NEWADDR, &message, sizeof message, IFA_LOCAL, address, IFA_ADDRESS, address);
}

int sbx_loopback_add_local_route(uint32_t network, int prefix) {
    struct rtmsg message = {
        .rtm_family = AF_INET, .rtm_dst_len = (unsigned char)prefix, .rtm_table = RT_TABLE_LOCAL,
        .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_HOST, .rtm_type = RTN_LOCAL,
    };
    // The interface goes in an attribute (RTA_OIF), not in the message.
    unsigned int index = if_nametoindex("lo");
    if (index == 0) return -errno;
    return netlink_request(RTM_NEWROUTE, &message, sizeof message, RTA_DST, network, RTA_OIF, index);
}

// A socket of `type` bound to `host_address` (host byte order):`port`, listening when it is a
// stream; the fd or -errno.
static int bound_socket(int type, uint32_t host_address, int port) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    if (type == SOCK_STREAM) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    address.sin_addr.s_addr = htonl(host_address);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || (type == SOCK_STREAM && listen(fd, 512) != 0)) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    return fd;
}

int sbx_listen_tcp(uint32_t host_address, int port) {
    return bound_socket(SOCK_STREAM, host_address, port);
}

int sbx_reserve_tcp6(int port) {
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 address = { .sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port), .sin6_addr = IN6ADDR_ANY_INIT };
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    return fd;
}

int sbx_bind_udp(uint32_t host_address, int port) {
    return bound_socket(SOCK_DGRAM, host_address, port);
}

int sbx_serve_socket_request(int channel) {
    unsigned char family = 0;
    ssize_t got;
    do { got = recv(channel, &family, 1, 0); } while (got < 0 && errno == EINTR);
    if (got == 0) return -EPIPE;
    if (got < 0) return -errno;
    int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        char refusal = 'e';
        return send(channel, &refusal, 1, MSG_NOSIGNAL) == 1 ? 0 : -errno;
    }
    int rc = sbx_send_fd(channel, fd);
    close(fd);
    return rc;
}

int sbx_connect_loopback(int fd, int port, int ipv6) {
    struct timeval limit = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    int rc;
    if (ipv6) {
        struct sockaddr_in6 address = { .sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port) };
        address.sin6_addr = in6addr_loopback;
        rc = connect(fd, (struct sockaddr *)&address, sizeof address);
    } else {
        struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&address, sizeof address);
    }
    struct timeval none = { 0, 0 };
    int saved = errno;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    errno = saved;
    return rc;
}

int sbx_send_fd(int channel, int fd) {
    char byte = 'f';
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&message);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t sent;
    do { sent = sendmsg(channel, &message, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    return sent == 1 ? 0 : -errno;
}

int sbx_receive_fd(int channel) {
    char byte = 0;
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space };
    ssize_t received;
    do { received = recvmsg(channel, &message, MSG_CMSG_CLOEXEC); } while (received < 0 && errno == EINTR);
    if (received != 1) return received == 0 ? -EPIPE : -errno;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&message);
    if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN(sizeof(int))) return -EBADMSG;
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}
