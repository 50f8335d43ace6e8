"""The wait estimate replayed without a server: the county day of ``bench/day.py --size county``
(its arrivals, service mix, service times, no-shows and green share) as a discrete-event
simulation in hall minutes, every new ticket estimated by the product's own
``Outlook.wait_minutes`` from the queue and the recent service times at that moment.

    .venv/bin/python bench/estimates.py [--seed 7] [--services]

It prints the mean absolute error of the estimates against the waits they had, the mean wait,
their ratio (the goal: within 25 %), the bias and the share within ±5 minutes; ``--services``
adds a line per service. ``bench/day.py`` measures the same through the running system, where
a loaded machine (its latency in the compressed day) weighs on both sides; here only the model
is measured. Windows call green tickets first, then by queue time across their services; all
are staffed all day; recent times are the last 15 per window and service (as ``outlook.py``),
and a service with none yet runs at its configured mean.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import day as bench

from window_service.admin.county import county_setup
from window_service.queue.outlook import RECENT, Outlook, ServiceTimes, Staffing

ARRIVE, FINISH, LOOK = 0, 1, 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--services", action="store_true", help="a line per service")
    args = parser.parse_args()
    size = bench.county_size()
    setup = county_setup()
    codes = [s.code for s in setup.services]
    ids = {c: i for i, c in enumerate(codes)}
    windows = {w.number: frozenset(ids[c] for c in w.services) for w in setup.windows}
    rng = random.Random(args.seed)
    mix, weights = list(size.mix), list(size.mix.values())

    def window_minutes(code: str) -> float:  # called → finished, as outlook.py measures it
        if rng.random() < bench.NO_SHOW:
            return 1.0
        return 0.3 + rng.lognormvariate(math.log(size.minutes[code]), 0.5)

    waiting: list[tuple[float, int, int, bool]] = []  # queued, ticket, service, green
    free_at = dict.fromkeys(windows, 0.0)
    called_at = dict.fromkeys(windows, 0.0)
    recent: dict[tuple[int, int], list[float]] = {}
    per_service: dict[int, list[float]] = {}
    estimate: dict[int, tuple[int, float | None]] = {}
    waited: dict[int, float] = {}
    events: list[tuple[float, int, int, int]] = []
    for n, hour in enumerate(bench.arrival_hours(rng, size.citizens)):
        heapq.heappush(events, (hour * 60, ARRIVE, n, 0))
    for w in windows:
        heapq.heappush(events, (bench.DAY_START_H * 60, LOOK, w, 0))

    def outlook(now: float) -> Outlook:
        times = ServiceTimes(
            {k: statistics.fmean(v[-RECENT:]) for k, v in recent.items()},
            {
                ids[c]: statistics.fmean(per_service[ids[c]][-RECENT:])
                if per_service.get(ids[c])
                else size.minutes[c]
                for c in codes
            },
        )
        busy = frozenset(w for w in windows if free_at[w] > now)
        return Outlook(Staffing(dict(windows), dict(windows), busy), times)

    def call(w: int, now: float) -> bool:
        mine = [t for t in waiting if t[2] in windows[w]]
        if not mine:
            return False
        ticket = min(mine, key=lambda t: (not t[3], t[0], t[1]))
        waiting.remove(ticket)
        waited[ticket[1]] = now - ticket[0]
        minutes = window_minutes(codes[ticket[2]])
        called_at[w], free_at[w] = now, now + minutes
        heapq.heappush(events, (now + minutes, FINISH, w, ticket[2]))
        return True

    while events:
        now, kind, n, service = heapq.heappop(events)
        if kind == ARRIVE:
            service = ids[rng.choices(mix, weights)[0]]
            green = rng.random() < 0.05
            hall = outlook(now)
            rivals = hall.rivals(service)
            ahead: dict[int, int] = {}
            for t in waiting:
                if t[2] in rivals and (t[3] or not green):
                    ahead[t[2]] = ahead.get(t[2], 0) + 1
            estimate[n] = (service, hall.wait_minutes(service, ahead))
            waiting.append((now, n, service, green))
            idle = [w for w in windows if free_at[w] <= now and service in windows[w]]
            if idle:
                call(idle[0], now)
        elif kind == FINISH:
            recent.setdefault((n, service), []).append(now - called_at[n])
            per_service.setdefault(service, []).append(now - called_at[n])
            if not call(n, now):
                heapq.heappush(events, (now + 0.5, LOOK, n, 0))
        elif free_at[n] <= now and not call(n, now) and (waiting or now < bench.DAY_END_H * 60):
            heapq.heappush(events, (now + 0.5, LOOK, n, 0))

    pairs = [(estimate[t][0], e, w) for t, w in waited.items() if (e := estimate[t][1]) is not None]
    print(f"county day replayed (seed {args.seed}): {len(pairs)} tickets called with an estimate")
    report("all", [(e, w) for _, e, w in pairs])
    if args.services:
        for i, code in enumerate(codes):
            report(f"  {code}", [(e, w) for s, e, w in pairs if s == i])
    return 0


def report(label: str, pairs: list[tuple[float, float]]) -> None:
    if not pairs:
        return
    errors = [abs(e - w) for e, w in pairs]
    mean_wait = statistics.fmean(w for _, w in pairs)
    mae = statistics.fmean(errors)
    bias = statistics.fmean(e - w for e, w in pairs)
    within = sum(1 for x in errors if x <= 5) / len(errors)
    ratio = f"{mae / mean_wait * 100:.0f} %" if mean_wait else "—"
    print(
        f"{label}: n={len(pairs)}, MAE {mae:.1f} min vs mean wait {mean_wait:.1f} min = {ratio}"
        f" (goal ≤ 25 %), bias {bias:+.1f}, within ±5 min {within * 100:.0f} %"
    )


if __name__ == "__main__":
    sys.exit(main())
