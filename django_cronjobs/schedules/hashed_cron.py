"""``H`` in cron fields: a fixed value chosen from a seed, so equal schedules spread out.

Jenkins' notation. In ``H 8 * * *`` the minute is one value from 0 to 59
worked out from the seed (a job's code, and an entry's key): every job with
that schedule runs once between 8:00 and 8:59, each at its own minute,
always the same one. ``H/15`` is every 15 minutes from a hashed start below
15; ``H(0-29)`` is one value in 0-29 and ``H(0-29)/10`` every 10 from a
hashed start in that range. In the day-of-month field plain ``H`` picks
from 1 to 28, a day every month has.

The seed is hashed with BLAKE2b, not Python's ``hash()``: every process,
host and version picks the same minute for the same seed.
"""

from __future__ import annotations

import functools
import hashlib
import re

# Each field's range for a plain H: minute, hour, day of month, month, weekday.
FIELD_RANGES = ((0, 59), (0, 23), (1, 28), (1, 12), (0, 6))
FIELD_NAMES = ("minute", "hour", "day of month", "month", "weekday")

_HASHED = re.compile(r"^H(?:\((\d+)-(\d+)\))?(?:/(\d+))?$")


class HashError(ValueError):
    """An ``H`` form that cannot be resolved (a bad range or step)."""


def has_hash(expression: str) -> bool:
    """Whether ``expression`` uses ``H`` in one of its fields (``THU`` is a day)."""
    return any(_is_hashed(item) for field in expression.split() for item in field.split(","))


def _is_hashed(item: str) -> bool:
    return item[:1] in ("H", "h")


@functools.lru_cache(maxsize=65536)
def resolve_hashes(expression: str, seed: str) -> str:
    """``expression`` with each ``H`` form replaced by the values ``seed`` gives.

    Fields without ``H`` are kept as written. Raises :class:`HashError` for an
    ``H`` form that has no value (``H(30-10)``, ``H/0``, a range outside the
    field); other mistakes are left for the cron parser to report.
    """
    fields = expression.split()
    if len(fields) != len(FIELD_RANGES):
        return expression
    resolved = []
    for index, text in enumerate(fields):
        if not any(_is_hashed(item) for item in text.split(",")):
            resolved.append(text)
            continue
        items = [_resolve_item(item, index, seed) for item in text.split(",")]
        resolved.append(",".join(items))
    return " ".join(resolved)


def _resolve_item(item: str, index: int, seed: str) -> str:
    match = _HASHED.match(item.upper())
    if match is None:
        return item  # not an H form: the cron parser judges it
    low, high = FIELD_RANGES[index]
    name = FIELD_NAMES[index]
    if match.group(1) is not None:
        first, last = int(match.group(1)), int(match.group(2))
        field_low = 1 if index in (2, 3) else 0
        field_high = {2: 31}.get(index, high)
        if not field_low <= first <= last <= field_high:
            raise HashError(f"H({first}-{last}) is not a range of the {name} field")
        low, high = first, last
    value = _hash(seed, index)
    if match.group(3) is None:
        return str(low + value % (high - low + 1))
    step = int(match.group(3))
    if not 0 < step <= high - low + 1:
        size = high - low + 1
        raise HashError(f"H/{step}: the step must be from 1 to {size} in the {name} field")
    start = low + value % step
    return ",".join(str(number) for number in range(start, high + 1, step))


def _hash(seed: str, index: int) -> int:
    digest = hashlib.blake2b(f"{seed}\x00{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
