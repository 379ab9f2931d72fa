#!/usr/bin/env python3
"""tests/e2e/loglines.py: what the logging tests check a command's stderr with
(docs/operations.md, "Logging"). Not a test itself: tests/e2e/logging.sh and
tests/kafka/logging.sh call it.

  loglines.py json FILE [KIND...]  every line is one JSON object whose first
                                   members are type, ts, level, component; each
                                   KIND given appears; prints the kinds counted
  loglines.py text FILE [KIND...]  every line is TIME LEVEL COMPONENT: ... but
                                   a summary, its JSON object as in json; each
                                   KIND given (a message's kind is "log")
                                   appears; prints the kinds counted
  loglines.py tty FILE [KIND...]   FILE holds a terminal's bytes: the status
                                   line drawn (\\r TEXT \\033[K), erased
                                   (\\r\\033[K) before any line is written and
                                   at the end; the lines as for text; KIND
                                   "(status)": it was drawn; prints the kinds
                                   and the drawings counted
  loglines.py pty OUT CMD...       run CMD with stdin, stdout and stderr on a
                                   pseudo-terminal (80 columns), its bytes into
                                   OUT; exits with CMD's status

Exits 1 naming the first line at fault.
"""
import fcntl
import json
import os
import pty
import re
import struct
import sys
import termios
import tty

TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
LEVELS = ("error", "warn", "info", "debug")
TEXT = re.compile(r"^(" + TS + r") (error|warn|info|debug) ([a-z]+): (.*)$")
ERASE = "\r\033[K"


def fail(why, line=""):
    print(f"loglines: {why}: {line!r}"[:600])
    sys.exit(1)


def json_kinds(lines):
    kinds = {}
    for line in lines:
        try:
            o = json.loads(line)
        except ValueError:
            fail("not JSON", line)
        if not isinstance(o, dict) or list(o)[:4] != ["type", "ts", "level", "component"]:
            fail("does not open with type, ts, level, component", line)
        if not re.fullmatch(TS, o["ts"]) or o["level"] not in LEVELS:
            fail("bad ts or level", line)
        if o["type"] == "log" and "msg" not in o:
            fail("a message without msg", line)
        kinds[o["type"]] = kinds.get(o["type"], 0) + 1
    return kinds


def text_kinds(lines):
    kinds = {}
    for line in lines:
        if line.startswith("{"):  # a summary: its JSON object in both formats
            o = json_kinds([line])
            kind = next(iter(o))
            if not kind.endswith("summary"):
                fail("a JSON line in text format that is no summary", line)
            kinds[kind] = kinds.get(kind, 0) + 1
            continue
        m = TEXT.match(line)
        if not m:
            fail("not TIME LEVEL COMPONENT: ...", line)
        word = m.group(4).split(" ", 1)[0]
        # an event is "KIND key=value..."; anything else is a message
        rest = m.group(4)[len(word):]
        kind = word if re.fullmatch(r"[a-z_]+", word) and (
            rest == "" or re.match(r"^( [a-z_.]+=\S)", rest)) else "log"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def terminal_lines(data):
    """The lines a terminal's bytes carry, the status line's drawings taken
    out, and how many drawings there were. The log writes: a drawing,
    \\r TEXT \\033[K; an erase, \\r\\033[K; a line, TEXT \\n, with the status
    line erased before it when one is shown and its TEXT drawn again after it
    (no \\r: the cursor is at a fresh line's start)."""
    lines, drawn, shown, pos, n = [], 0, False, 0, len(data)
    while pos < n:
        if data.startswith(ERASE, pos):
            pos += len(ERASE)
            shown = False
        elif data[pos] == "\r":
            end = data.find("\033[K", pos)
            if end < 0 or re.search(r"[\r\n\033]", data[pos + 1:end]):
                fail("a status drawing not ended by an erase-to-end", data[pos:pos + 120])
            pos = end + 3
            drawn += 1
            shown = True
        else:
            j = pos
            while j < n and data[j] not in "\r\n":
                j += 1
            if j < n and data[j] == "\n":
                if shown:
                    fail("a line written over the status line", data[pos:j])
                if "\033" in data[pos:j]:
                    fail("a line with terminal control bytes", data[pos:j])
                lines.append(data[pos:j])
                pos = j + 1
            else:  # the status line drawn again below a line
                shown = True
                pos = j
    if shown:
        fail("the status line is left on the terminal at the end", data[-200:])
    return lines, drawn


def expect(kinds, want):
    for k in want:
        if k not in kinds:
            fail(f"no line of kind {k} among {kinds}")
    print(" ".join(f"{k}:{n}" for k, n in sorted(kinds.items())))


def run_on_pty(out, cmd):
    pid, fd = pty.fork()
    if pid == 0:
        tty.setraw(1)  # bytes as the program writes them (no \n -> \r\n)
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.environ["TERM"] = "xterm"
        os.execvp(cmd[0], cmd)
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the last writer has gone
            break
        if not chunk:
            break
        data += chunk
    _, status = os.waitpid(pid, 0)
    open(out, "wb").write(data)
    sys.exit(os.waitstatus_to_exitcode(status))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    mode, path, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    if mode == "pty":
        run_on_pty(path, rest)
    data = open(path, encoding="utf-8", newline="").read()  # \r kept
    if mode == "tty":
        lines, drawn = terminal_lines(data)
        kinds = text_kinds(lines)
        if drawn:
            kinds["(status)"] = drawn
        expect(kinds, rest)
        return
    if "\r" in data or "\033" in data:
        fail("terminal control bytes in a file", data[:200])
    if data and not data.endswith("\n"):
        fail("the last line is not ended", data[-200:])
    lines = data.split("\n")[:-1]
    if not lines:
        fail("nothing on stderr")
    expect(json_kinds(lines) if mode == "json" else text_kinds(lines), rest)


main()
