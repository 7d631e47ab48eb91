"""Turning whatever ``do()`` returns into text every database stores, and errors into one line."""

from __future__ import annotations

from typing import Any

TRUNCATION_MARKER = "\n[... {count} characters cut: message longer than {limit} ...]"


def as_log_text(value: Any, limit: int) -> str:
    """``value`` as valid text of at most ``limit`` characters.

    None becomes "", bytes are decoded as UTF-8 (invalid bytes replaced), other
    objects become ``str(value)``; NUL characters and unpaired surrogates, which
    PostgreSQL and MySQL refuse, are removed or replaced; text past ``limit`` is
    cut with a marker that says how much was cut.
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
        longest_marker = TRUNCATION_MARKER.format(count=len(text), limit=limit)
        kept = max(limit - len(longest_marker), 0)
        text = text[:kept] + TRUNCATION_MARKER.format(count=len(text) - kept, limit=limit)
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
    """Why a run did not succeed, in one line: a traceback's last line (the
    exception), else the message's first line (``Timed out after ...``)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return status
    traceback = lines[0].startswith("Traceback (most recent call last)")
    reason = next((line for line in reversed(lines) if not line.startswith("[")), lines[-1])
    line = reason if traceback else lines[0]
    return (
        line
        if len(line) <= REASON_LENGTH
        else line[: REASON_LENGTH - 1] + "\N{HORIZONTAL ELLIPSIS}"
    )
