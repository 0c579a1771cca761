"""How times are kept and shown: one place, so nothing is an hour off in summer.

- **Stored: UTC.** Every timestamp the app makes (created, updated, erased, audit events,
  batches, receipts) is stored as UTC and read back as an *aware* UTC datetime
  (``store.models.UtcDateTime``). Older rows were already naive UTC, so they read back right.
- **Shown: local time** in the workspace's zone: ``VRP_TIMEZONE`` if set, else Europe/London
  (the partnerships are in the UK; zoneinfo knows its summer time), else the OS zone.
- **A session's start is a wall-clock time** ("Friday 18:00", as the worker typed it), kept
  naive in the local zone, so a session's day and quarter are the ones the worker meant. When it
  travels in a batch it carries its UTC offset (ISO 8601, "2026-07-10T18:00:00+01:00"), and the
  coordinator compares it with its own clock in UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
import os

UTC = dt.UTC
DEFAULT_ZONE = "Europe/London"
#: a delivered session may start this far after "now" (clocks on two laptops differ a little)
FUTURE_TOLERANCE = dt.timedelta(minutes=10)


@functools.cache
def _zone(name: str) -> dt.tzinfo:
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    except ImportError:  # pragma: no cover - zoneinfo is in the standard library from 3.9
        pass
    return dt.datetime.now().astimezone().tzinfo or UTC  # the OS zone (fixed offset)


def local_zone() -> dt.tzinfo:
    """The zone times are shown in and session starts are meant in."""
    return _zone(os.environ.get("VRP_TIMEZONE") or DEFAULT_ZONE)


def utc_now() -> dt.datetime:
    """Now, as stored: aware UTC."""
    return dt.datetime.now(UTC)


def local_now() -> dt.datetime:
    """Now on the local wall clock, naive (the form of a session's start)."""
    return dt.datetime.now(local_zone()).replace(tzinfo=None)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored timestamp as aware UTC; a naive one is stored UTC (the rows before this)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_local(value: dt.datetime) -> dt.datetime:
    """A stored (UTC) timestamp as aware local time, for showing."""
    return as_utc(value).astimezone(local_zone())


def local_naive(value: dt.datetime | None) -> dt.datetime | None:
    """A stored timestamp as a naive local time: what a spreadsheet cell can hold."""
    return None if value is None else as_local(value).replace(tzinfo=None)


def show(value: dt.datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A stored (UTC) timestamp formatted in local time; '' for none."""
    return "" if value is None else as_local(value).strftime(fmt)


# -- session starts: local wall-clock times ---------------------------------------------------


def wall_time_aware(value: dt.datetime) -> dt.datetime:
    """A session start (naive, local) with its zone; an aware one is returned as it is."""
    return value.replace(tzinfo=local_zone()) if value.tzinfo is None else value


def travelling_start(value: dt.datetime | str | None) -> str | None:
    """A session start as it travels in a batch: ISO 8601 with its UTC offset."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip()[:19].replace(" ", "T"))
    return wall_time_aware(value.replace(microsecond=0)).isoformat()


def travelling_utc(value: dt.datetime | str | None) -> str | None:
    """A stored (UTC) timestamp as it travels in a batch: ISO 8601 with +00:00."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip()[:19].replace(" ", "T"))
    return as_utc(value.replace(microsecond=0)).isoformat()


def received_start(value: dt.datetime) -> dt.datetime:
    """A session start from a batch as the local wall-clock time it means (naive). A start
    with an offset is converted to the local zone; one without (older batches) is local."""
    if value.tzinfo is None:
        return value
    return value.astimezone(local_zone()).replace(tzinfo=None)


def is_future(start: dt.datetime, now: dt.datetime, tolerance: dt.timedelta | None = None) -> bool:
    """Whether a session start lies after ``now`` by more than ``tolerance``, compared in UTC.

    A naive ``start`` or ``now`` is a local wall-clock time; an aware one is exact. By default
    a start that travelled (aware: from another laptop's clock) gets ``FUTURE_TOLERANCE``; one
    typed on this machine (naive) gets none.
    """
    if tolerance is None:
        tolerance = FUTURE_TOLERANCE if start.tzinfo is not None else dt.timedelta(0)
    return _exact(start) > _exact(now) + tolerance


def _exact(value: dt.datetime) -> dt.datetime:
    return wall_time_aware(value).astimezone(UTC)
