"""The AMI wire protocol, parsed incrementally: feed bytes, get complete messages back.

AMI is line-oriented text: `Key: Value` lines (CRLF, though some switches and recordings
use bare LF), a blank line ending each message, and an `Asterisk Call Manager/x.y` banner
line when a connection opens. A `Response: Follows` message (the `Command` action of
Asterisk 11-13) carries free-text output up to `--END COMMAND--`. The stream may be cut
into fragments anywhere (TCP does it, and goami2's recordings do it on purpose), so the
parser keeps the unfinished tail until the rest arrives.

Nothing is dropped silently: a line that is no header, text that is not UTF-8, an overlong
line or a second `Event:` inside one message (a missing blank line) turns that whole
message into a `FrameError` naming the line and the reason, with the raw bytes kept for
the dead-letter topic; parsing goes on with the next message.

`load_json_events` reads the other recording format, a JSON list of event objects (one
dict per AMI message, as cacofonisk records them). `read_recording` detects which one a
file holds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = [
    "Banner",
    "Frame",
    "FrameError",
    "FrameParser",
    "Item",
    "load_json_events",
    "parse_bytes",
    "read_recording",
    "wire",
]

MAX_LINE = 65_536
_BANNER = "Asterisk Call Manager/"
_END_COMMAND = "--END COMMAND--"
# one "Key: Value" line: a key without spaces or colons, one optional space, the rest
_HEADER = re.compile(r"^([^:\s]+): ?(.*)$", re.M)


@dataclass(frozen=True, slots=True)
class Frame:
    """One complete AMI message. `headers` keep the order of first appearance; a repeated
    header (e.g. `ChanVariable`) has its values joined by newlines; `Output` holds the text of
    a `Response: Follows`. `line` is the line it began on (1-based; the index for JSON)."""

    headers: dict[str, str]
    line: int


@dataclass(frozen=True, slots=True)
class Banner:
    """The greeting a connection opens with: `Asterisk Call Manager/<version>`."""

    version: str
    line: int


@dataclass(frozen=True, slots=True)
class FrameError:
    """A message that could not be parsed: where, why, and its raw bytes (cut at 4 KiB)."""

    line: int
    reason: str
    raw: bytes

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


Item = Frame | Banner | FrameError


class FrameParser:
    """Incremental AMI parser: `feed(bytes)` returns the messages completed by those bytes."""

    __slots__ = (
        "_bad",
        "_bad_line",
        "_buf",
        "_follows",
        "_headers",
        "_lineno",
        "_out",
        "_output",
        "_raw",
        "_skipping",
        "_start",
    )

    def __init__(self) -> None:
        self._buf = b""
        self._lineno = 0
        self._out: list[Item] = []
        self._skipping = False
        self._reset()

    def _reset(self) -> None:
        self._headers: dict[str, str] | None = None
        self._raw: list[bytes] = []
        self._start = 0
        self._bad = ""
        self._bad_line = 0
        self._follows = False
        self._output: list[str] | None = None

    def feed(self, data: bytes) -> list[Item]:
        """Parse `data` (any fragment of the stream); return the items it completed."""
        buf = self._buf + data if self._buf else data
        if self._headers is None and not self._bad and not self._skipping:
            # fast path: whole messages at once, from a message boundary to the last blank line
            end = max(buf.rfind(b"\n\n") + 2, buf.rfind(b"\n\r\n") + 3)
            text = None
            if end > 2:
                try:
                    text = buf[:end].decode("utf-8")
                except UnicodeDecodeError:
                    pass  # the line-by-line path below names the bad line
                else:
                    self._blocks(text)
                    buf = buf[end:]
            if (end <= 2 or text is not None) and len(buf) <= MAX_LINE:
                self._buf = buf  # an unfinished message: wait for the rest
                out, self._out = self._out, []
                return out
        lines = buf.split(b"\n")
        self._buf = lines.pop()
        if self._skipping and lines:  # the rest of an overlong line
            lines.pop(0)
            self._skipping = False
        line = self._line
        for raw in lines:
            line(raw[:-1] if raw.endswith(b"\r") else raw)
        if len(self._buf) > MAX_LINE:
            self._lineno += 1
            self._mark(f"line longer than {MAX_LINE} bytes", self._buf[:1024])
            self._buf = b""
            self._skipping = True
        out, self._out = self._out, []
        return out

    def _blocks(self, text: str) -> None:
        """Complete messages (`text` ends with a blank line) parsed a message at a time; a
        message the fast path cannot take whole (a banner, `Response: Follows`, a repeated
        or malformed header) goes through the line-by-line path."""
        blocks = text.replace("\r\n", "\n").split("\n\n")
        tail = blocks.pop()  # only newlines: blank lines after the last message
        n = self._lineno
        out = self._out
        for block in blocks:
            body = block.lstrip("\n")
            if not body:  # blank lines only
                n += len(block) + 2
                continue
            n += len(block) - len(body)
            start = n + 1
            count = body.count("\n") + 1
            pairs = _HEADER.findall(body)
            if len(pairs) == count:
                headers = dict(pairs)
                if len(headers) == count and headers.get("Response") != "Follows":
                    out.append(Frame(headers, start))
                    n += count + 1
                    continue
            self._lineno = n
            for line in body.split("\n"):
                self._line(line.encode("utf-8"))
            self._line(b"")
            n = self._lineno
        self._lineno = n + len(tail)

    def close(self, *, eof_ends_message: bool = True) -> list[Item]:
        """The end of the stream. A file's last message may lack its blank line
        (`eof_ends_message`); a connection that closed inside a message cut it short."""
        if self._buf and not self._skipping:
            lines = self._buf.split(b"\n")
            tail = lines.pop()  # after the last newline: a last line without one, or nothing
            for raw in [*lines, tail] if tail else lines:
                self._line(raw[:-1] if raw.endswith(b"\r") else raw)
        self._buf = b""
        self._skipping = False
        if self._headers is not None or self._bad:
            if not eof_ends_message and not self._bad:
                self._bad = "the stream ended inside this message (no blank line after it)"
                self._bad_line = self._start
            self._end()
        out, self._out = self._out, []
        return out

    def _mark(self, reason: str, raw: bytes) -> None:
        if self._headers is None:
            self._headers = {}
            self._start = self._lineno
        self._raw.append(raw)
        if not self._bad:
            self._bad, self._bad_line = reason, self._lineno

    def _end(self) -> None:
        if self._bad:
            raw = b"\r\n".join(self._raw)[:4096]
            self._out.append(FrameError(self._bad_line, self._bad, raw))
        elif self._headers:
            if self._output is not None:
                self._headers["Output"] = "\n".join(self._output)
            self._out.append(Frame(self._headers, self._start))
        self._reset()

    def _line(self, raw: bytes) -> None:
        self._lineno += 1
        if not raw:
            if self._output is not None and self._follows:  # blank line inside command output
                self._output.append("")
                return
            if self._headers is not None or self._bad:
                self._end()
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            self._mark(f"not UTF-8 text ({e.reason} at byte {e.start})", raw)
            return
        headers = self._headers
        if headers is None:
            if text.startswith(_BANNER):
                self._out.append(Banner(text[len(_BANNER) :].strip(), self._lineno))
                return
            headers = self._headers = {}
            self._start = self._lineno
        self._raw.append(raw)
        if self._bad:
            return
        if self._output is not None and self._follows:
            if text.rstrip() == _END_COMMAND:
                self._follows = False  # output done; the blank line ends the message
            else:
                self._output.append(text)
            return
        colon = text.find(":")
        key = text[:colon] if colon > 0 else ""
        if not key or " " in key or "\t" in key:
            if headers.get("Response") == "Follows":
                self._output = [text]
                self._follows = True
                return
            self._bad, self._bad_line = f"not a 'Key: Value' header: {text[:80]!r}", self._lineno
            return
        value = text[colon + 1 :]
        if value[:1] == " ":
            value = value[1:]
        old = headers.get(key)
        if old is None:
            headers[key] = value
            if key == "Response" and value == "Follows":
                self._follows = True
        elif key == "Event" or key == "Response":
            # a new message began without the blank line: quarantine what came before it
            self._raw.pop()
            self._bad = f"a second {key!r} header at line {self._lineno} (missing blank line before it?)"
            self._bad_line = self._start
            self._end()
            self._lineno -= 1
            self._line(raw)
        else:
            headers[key] = old + "\n" + value


def parse_bytes(data: bytes) -> list[Item]:
    """Every item of a complete wire recording."""
    parser = FrameParser()
    return parser.feed(data) + parser.close()


def wire(headers: dict[str, str]) -> bytes:
    """A message as AMI sends it (CRLF lines, blank line at the end)."""
    lines = []
    for k, v in headers.items():
        for part in v.split("\n"):
            lines.append(f"{k}: {part}\r\n")
    return ("".join(lines) + "\r\n").encode("utf-8")


def load_json_events(text: str) -> list[Frame | FrameError]:
    """A JSON list of AMI event objects; an item that is no object of text is an error
    naming its index (`line` = index + 1). Numbers are kept as their text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return [FrameError(e.lineno, f"not JSON: {e.msg}", text.encode("utf-8")[:4096])]
    if not isinstance(data, list):
        return [FrameError(1, "a JSON recording must be a list of event objects", text.encode()[:4096])]
    out: list[Frame | FrameError] = []
    for i, item in enumerate(data, start=1):
        raw = json.dumps(item, sort_keys=True).encode("utf-8")
        if not isinstance(item, dict):
            out.append(FrameError(i, f"item {i} is not an object", raw[:4096]))
            continue
        bad = [k for k, v in item.items() if isinstance(v, dict | list)]
        if bad:
            out.append(FrameError(i, f"item {i}: field {bad[0]!r} is not a scalar", raw[:4096]))
            continue
        out.append(Frame({str(k): "" if v is None else str(v) for k, v in item.items()}, i))
    return out


def read_recording(data: bytes) -> tuple[str, list[Item]]:
    """Detect the format of a recording ("json" when it is a JSON list, else "wire") and parse it."""
    if data.lstrip()[:1] == b"[":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            return "json", [FrameError(1, f"not UTF-8 text ({e.reason} at byte {e.start})", data[:4096])]
        return "json", list(load_json_events(text))
    return "wire", parse_bytes(data)
