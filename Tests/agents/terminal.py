"""A program in a pseudo-terminal, driven like a user at a keyboard: for the agents lane's
interactive starts (first-run prompts, a question, the answer on screen)."""
import os
import pty
import re
import select
import signal
import struct
import subprocess
import fcntl
import termios
import time

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[A-Za-z~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78cMDEHN]")


class Terminal:
    def __init__(self, argv, env, cwd, rows=40, columns=120):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=slave, stdout=slave, stderr=slave,
                                        start_new_session=True, close_fds=True,
                                        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.raw = b""

    def text(self):
        """Everything shown so far, escape sequences removed (cursor moves become spaces)."""
        return ANSI.sub(b" ", self.raw).decode("utf-8", "replace")

    def read(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], max(0.0, min(0.2, end - time.monotonic())))
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.raw += data

    def wait_for(self, pattern, seconds, since=0):
        """Reads until `pattern` (a regex) appears in the text after offset `since`; its match or None."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            found = re.search(pattern, self.text()[since:])
            if found:
                return found
            if self.process.poll() is not None:
                self.read(0.3)
                return re.search(pattern, self.text()[since:])
            self.read(0.3)
        return None

    def send(self, data):
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def close(self, seconds=10):
        """Ends the program: SIGTERM to its group, then SIGKILL. Its exit status."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(seconds)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        os.close(self.master)
        return self.process.returncode
