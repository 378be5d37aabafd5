"""Runs a command on a real pseudo-terminal (the way a user's terminal runs it).

Usage: python3 run-in-pty.py COLUMNS ROWS COMMAND [ARGS...]

The command's terminal output (escape codes and all) is copied to this process's stdout; bytes on
this process's stdin are typed into the terminal, so a test can press Ctrl+C by writing \\x03 (the
terminal's line discipline turns it into SIGINT for the command). Exits with the command's status
(128 + N when signal N ended it).
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios

columns, rows, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
pid, master = pty.fork()
if pid == 0:
    # The size is set before exec, so the command's first look at its terminal sees it.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    os.execvp(argv[0], argv)

stdin_open = True
while True:
    ready, _, _ = select.select([master] + ([0] if stdin_open else []), [], [])
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the command closed the terminal
            data = b""
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        typed = os.read(0, 1024)
        if typed:
            os.write(master, typed)
        else:
            stdin_open = False

_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
