"""CPython's cyclic garbage collector, tuned for a server holding many live sockets (serve).

A full collection walks every object the collector tracks and stops the process meanwhile.
In a server that is the models and SQLAlchemy's and pydantic's machinery (tens of thousands of
objects, loaded once) plus every open display socket (dozens of objects each). Measured with
``bench/issue.py`` and ``bench/display.py`` on 2 cores, such pauses took 80-100 ms and set the
p99 of both: every request and every display waiting at that moment paid for them.

- Everything loaded at start is frozen: collections never walk it again.
- Full collections no longer start by themselves (CPython starts one when enough objects have
  survived, e.g. right after a thousand displays connect). Young collections still run as
  before and free the cyclic garbage of requests, calls and sockets, which is nearly all of it.
- One full collection runs each night at 03:00 hall time, when the hall is closed, for the
  rest (cycles among objects that lived long before they died).
"""

from __future__ import annotations

import gc
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

#: Generation-2 threshold: the number of young collections before a full one (out of reach).
NO_AUTOMATIC_FULL_COLLECTION = 1_000_000
NIGHTLY_HOUR = 3


def tune(zone: ZoneInfo) -> threading.Thread:
    """Freeze what is loaded, leave full collections to the night, start the night thread."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NO_AUTOMATIC_FULL_COLLECTION)
    thread = threading.Thread(target=_nightly, args=(zone,), name="nightly-gc", daemon=True)
    thread.start()
    return thread


def seconds_until(now: datetime, hour: int) -> float:
    """Seconds from ``now`` (aware) to the next ``hour``:00 in ``now``'s time zone."""
    target = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= now:
        target = (target + timedelta(days=1)).replace(hour=hour)
    return (target - now).total_seconds()


def _nightly(zone: ZoneInfo) -> None:
    while True:
        time.sleep(max(60.0, seconds_until(datetime.now(zone), NIGHTLY_HOUR)))
        gc.collect()
