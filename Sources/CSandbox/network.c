#include "sbx_network.h"
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

int sbx_listen_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 512) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    return fd;
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
