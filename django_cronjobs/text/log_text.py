"""Turning whatever ``do()`` returns into text every database stores, and errors into one line."""

from __future__ import annotations

from typing import Any

TRUNCATION_MARKER = "\n[... {count} characters cut: message longer than {limit} ...]"


def as_log_text(value: Any, limit: int) -> str:
    """``value`` as valid text of at most ``limit`` characters.

    None becomes "", bytes are decoded as UTF-8 (invalid bytes replaced), other
    objects become ``str(value)``; NUL characters and unpaired surrogates, which
    PostgreSQL and MySQL refuse, are removed or replaced; text past ``limit``
    loses its middle, replaced by a marker that says how much was cut (the last
    quarter stays: a traceback's exception line is at its end).
    """
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value).decode("utf-8", errors="replace")
    else:
        try:
            text = str(value)
        except Exception:  # a broken __str__ must not lose the run
            text = object.__repr__(value)
    text = text.replace("\x00", "")
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    if len(text) > limit:
        # The middle goes: a traceback's last lines (the exception) are kept,
        # and so is the start of ordinary output.
        longest_marker = TRUNCATION_MARKER.format(count=len(text), limit=limit) + "\n"
        kept = max(limit - len(longest_marker), 0)
        tail = kept // 4
        head = kept - tail
        end = text[-tail:] if tail else ""
        if "\n" in end[:-1]:
            end = end[end.index("\n") + 1 :]  # from a line's start
        marker = TRUNCATION_MARKER.format(count=len(text) - head - len(end), limit=limit) + "\n"
        text = text[:head] + marker + end
    return text


def as_ascii(text: str) -> str:
    """``text`` with every non-ASCII character escaped, for a database whose
    column charset cannot hold it (MySQL utf8mb3 and emoji)."""
    return text.encode("ascii", errors="backslashreplace").decode("ascii")


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s text (its repr when it has none): drivers'
    messages run over several lines, and cron mail wants one."""
    text = str(error).strip()
    return text.splitlines()[0] if text else repr(error)


REASON_LENGTH = 200


def failure_reason(status: str, message: str) -> str:
    """Why a run did not succeed, in one line.

    For a traceback, the exception's own line: the first line of the last
    traceback that is not part of its stack (``ValueError: boom``), whatever
    follows it (a database error's ``LINE 1: ...``, notes in brackets); for
    an exception group, the group's line. Otherwise the message's first line
    (``Timed out after 5 s ...``), or the status when there is none.
    """
    lines = [line.rstrip() for line in message.splitlines() if line.strip()]
    if not lines:
        return status
    return shortened(_exception_line(lines) or lines[0].strip(), REASON_LENGTH)


def shortened(text: str, length: int) -> str:
    """``text``, cut to ``length`` characters with an ellipsis if it is longer."""
    return text if len(text) <= length else text[: length - 1] + "\N{HORIZONTAL ELLIPSIS}"


def _exception_line(lines: list[str]) -> str | None:
    starts = [n for n, line in enumerate(lines) if line.rstrip().endswith(TRACEBACK)]
    if not starts:
        return None
    start = starts[-1]
    margin = len(lines[start]) - len(lines[start].lstrip(" |+"))
    for line in lines[start + 1 :]:
        text = line[margin:] if len(line) > margin else line.lstrip(" |+")
        if text and not text.startswith(" ") and not text.startswith("[") and " ---" not in text:
            return text.strip()
    return None


TRACEBACK = "Traceback (most recent call last):"
