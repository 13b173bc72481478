#define _GNU_SOURCE
#include "sbx_signals.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static void noop_handler(int sig) { (void)sig; }

static void fill_set(sigset_t *set, const int *signals, int count) {
    sigemptyset(set);
    for (int i = 0; i < count; i++) sigaddset(set, signals[i]);
}

int sbx_signals_take(const int *signals, int count) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = noop_handler;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < count; i++) {
        if (sigaction(signals[i], &action, NULL) != 0) return -errno;
    }
    sigset_t set;
    fill_set(&set, signals, count);
    return sigprocmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -errno;
}

int sbx_signals_wait(const int *signals, int count, int timeout_ms, int *from_kernel) {
    sigset_t set;
    fill_set(&set, signals, count);
    siginfo_t info;
    int sig;
    do {
        if (timeout_ms < 0) {
            sig = sigwaitinfo(&set, &info);
        } else {
            struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
            sig = sigtimedwait(&set, &info, &ts);
        }
    } while (sig < 0 && errno == EINTR);
    if (sig < 0) return errno == EAGAIN ? 0 : -errno;
    *from_kernel = info.si_code == SI_KERNEL;
    return sig;
}

int sbx_signals_wait_or_readable(const int *signals, int count, const int *fds, int fd_count, int *from_kernel,
                                 int *ready) {
    static int signal_fd = -1;
    if (signal_fd < 0) {
        sigset_t set;
        fill_set(&set, signals, count);
        signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (signal_fd < 0) return -errno;
    }
    struct pollfd polled[8];
    if (fd_count > 7) return -EINVAL;
    for (;;) {
        struct signalfd_siginfo info;
        ssize_t got = read(signal_fd, &info, sizeof info);
        if (got == (ssize_t)sizeof info) {
            *from_kernel = info.ssi_code == SI_KERNEL;
            return (int)info.ssi_signo;
        }
        if (got < 0 && errno != EAGAIN && errno != EINTR) return -errno;
        polled[0] = (struct pollfd){ signal_fd, POLLIN, 0 };
        // poll(2) skips negative descriptors: a closed one stays in its slot as -1.
        for (int i = 0; i < fd_count; i++) polled[i + 1] = (struct pollfd){ fds[i], POLLIN, 0 };
        int count_ready = poll(polled, (nfds_t)fd_count + 1, -1);
        if (count_ready < 0 && errno != EINTR) return -errno;
        for (int i = 0; count_ready > 0 && i < fd_count; i++) {
            if (polled[i + 1].revents != 0) { *ready = i; return 0; }
        }
    }
}

void sbx_signals_restore_defaults(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        sigaction(sig, &action, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}
