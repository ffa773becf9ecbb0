"""Generate large, valid trip files for benchmarks and scale tests (seeded, so runs compare).

python bench/gen_trip.py --events 10000 --counterparts 100 --places 20 --seed 1 -o big.toml
python bench/gen_trip.py --dense --events 5000 --seed 1 -o dense.toml

The first kind has no overlaps (one event after another across many zones); the dense
kind packs its events into the working hours of a few days in three zones, the shape of
a summit with several delegations' programmes, where most events overlap others.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Many kinds of zone: DST north and south, half-hour and 45-minute offsets, the date line.
ZONES = [
    "Europe/London",
    "America/New_York",
    "America/Toronto",
    "America/Anchorage",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Australia/Eucla",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Europe/Paris",
    "Africa/Nairobi",
    "America/Sao_Paulo",
    "Asia/Tehran",
    "America/St_Johns",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Asia/Singapore",
]
KINDS = ["meeting", "speech", "press", "ceremony", "travel", "visit", "meal", "other"]


def _valid_local(start: datetime, zone: ZoneInfo) -> bool:
    """False for wall times skipped or repeated by DST (the loader rightly refuses those)."""
    a = start.replace(tzinfo=zone, fold=0)
    b = start.replace(tzinfo=zone, fold=1)
    back = a.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    return back == start and a.utcoffset() == b.utcoffset()


def generate(events: int, counterparts: int, places: int, seed: int) -> str:
    rng = random.Random(seed)
    out = [
        "format = 1",
        "",
        "[trip]",
        f'id = "generated-{events}"',
        f'title = "Generated trip: {events} events across {places} places"',
        'home_tz = "Europe/London"',
        'source = "bench/gen_trip.py (seeded)"',
        "",
    ]
    zones = [ZONES[i % len(ZONES)] for i in range(places)]
    for i, zone in enumerate(zones):
        out += [
            "[[places]]",
            f'id = "place-{i}"',
            f'name = "Place {i} ({zone})"',
            f'tz = "{zone}"',
            "",
        ]
    for i in range(counterparts):
        points = ", ".join(f'"Point {j} for counterpart {i}"' for j in range(rng.randint(0, 5)))
        out += [
            "[[counterparts]]",
            f'id = "cp-{i}"',
            f'name = "Counterpart {i}"',
            f'role = "Role {i % 37}"',
            f"talking_points = [{points}]",
            "",
        ]
    # Instants advance in UTC and each event ends before the next starts, so the trip has
    # no overlaps; each is written as wall-clock time at its own place.
    instant = datetime(2024, 1, 1, 8, 0, tzinfo=ZoneInfo("UTC"))
    written = 0
    length = 15
    while written < events:
        instant += timedelta(minutes=max(length, rng.choice([15, 30, 45, 60, 90, 120, 240, 600])))
        length = rng.choice([15, 30, 45, 60])
        place = rng.randrange(places)
        zone = ZoneInfo(zones[place])
        clock = instant.astimezone(zone).replace(tzinfo=None)
        if not _valid_local(clock, zone):
            continue
        lines = [
            "[[events]]",
            f'id = "ev-{written}"',
            f'title = "Event {written}: {rng.choice(KINDS)} with delegation"',
            f'place = "place-{place}"',
        ]
        if rng.random() < 0.05:
            lines.append(f"start = {clock.date().isoformat()}")
        else:
            lines.append(f"start = {clock.isoformat(timespec='seconds')}")
            end = (instant + timedelta(minutes=length)).astimezone(zone).replace(tzinfo=None)
            if _valid_local(end, zone) and rng.random() < 0.7:
                lines.append(f"end = {end.isoformat(timespec='seconds')}")
        lines.append(f'kind = "{rng.choice(KINDS[:4])}"')
        if rng.random() < 0.05:
            lines.append('status = "cancelled"')
        if counterparts:
            picks = {f'"cp-{rng.randrange(counterparts)}"' for _ in range(rng.randint(0, 3))}
            lines.append(f"counterparts = [{', '.join(sorted(picks))}]")
        out += [*lines, ""]
        written += 1
    return "\n".join(out)


#: The dense trip's places: three zones, none of which changes its clocks in June 2024.
DENSE_PLACES = [
    ("washington", "Washington DC", "America/New_York"),
    ("london", "London", "Europe/London"),
    ("tokyo", "Tokyo", "Asia/Tokyo"),
]


def generate_dense(
    events: int = 5_000, days: int = 5, counterparts: int = 200, seed: int = 1
) -> str:
    """``events`` events over ``days`` days at three places in three zones.

    Each starts between 07:00 and 20:45 local time on a quarter hour and lasts 15 to
    120 minutes; days, places, hours and lengths are drawn with ``seed``.
    """
    rng = random.Random(seed)
    out = [
        "format = 1",
        "",
        "[trip]",
        f'id = "dense-{events}"',
        f'title = "Dense trip: {events} events over {days} days in three zones"',
        'home_tz = "Europe/London"',
        'source = "bench/gen_trip.py --dense (seeded)"',
        "",
    ]
    for ident, name, zone in DENSE_PLACES:
        out += ["[[places]]", f'id = "{ident}"', f'name = "{name}"', f'tz = "{zone}"', ""]
    for i in range(counterparts):
        out += [
            "[[counterparts]]",
            f'id = "cp-{i}"',
            f'name = "Counterpart {i}"',
            f'role = "Role {i % 37}"',
            f'talking_points = ["First point for counterpart {i}", "Second point for {i}"]',
            "",
        ]
    first_day = datetime(2024, 6, 3)
    slots = (20 * 60 + 45 - 7 * 60) // 15 + 1  # 07:00, 07:15, ... 20:45
    for i in range(events):
        ident, _, _ = DENSE_PLACES[rng.randrange(len(DENSE_PLACES))]
        start = first_day + timedelta(
            days=rng.randrange(days), minutes=7 * 60 + 15 * rng.randrange(slots)
        )
        end = start + timedelta(minutes=rng.randrange(15, 121, 15))
        lines = [
            "[[events]]",
            f'id = "ev-{i}"',
            f'title = "Event {i}: {rng.choice(KINDS)} with delegation {rng.randrange(40)}"',
            f'place = "{ident}"',
            f"start = {start.isoformat(timespec='seconds')}",
            f"end = {end.isoformat(timespec='seconds')}",
            f'kind = "{rng.choice(KINDS[:4])}"',
        ]
        if counterparts:
            picks = {f'"cp-{rng.randrange(counterparts)}"' for _ in range(rng.randint(0, 3))}
            lines.append(f"counterparts = [{', '.join(sorted(picks))}]")
        out += [*lines, ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--counterparts", type=int, default=100)
    parser.add_argument("--places", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dense", action="store_true", help="the dense kind (3 zones, 5 days)")
    parser.add_argument("--days", type=int, default=5, help="days of a dense trip")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    if args.dense:
        text = generate_dense(args.events, args.days, min(args.counterparts, 100), args.seed)
    else:
        text = generate(args.events, args.counterparts, args.places, args.seed)
    args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
