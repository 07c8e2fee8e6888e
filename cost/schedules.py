"""How many times a month an EventBridge Scheduler expression fires: what a scheduled job's cost scales with.

Scheduler's expressions are `rate(n unit)`, `cron(minutes hours day-of-month month day-of-week year)` and
`at(...)` (once). A cron's count is the product of its fields' value counts; day-of-month and day-of-week
(one of them is `?`) give the days a month. Month-level precision is all a monthly estimate needs, so
`L`, `W` and `#` (last day, nearest weekday, nth weekday) count as one day a month.
"""

from __future__ import annotations

import re

DAYS_PER_MONTH = 730 / 24
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
_MINUTES_PER = {"minute": 1, "hour": 60, "day": 24 * 60}
# (first, last) value of each cron field Scheduler reads, for `*` and for ranges with a step.
_MINUTES, _HOURS, _DAYS_OF_MONTH, _MONTHS, _DAYS_OF_WEEK = (0, 59), (0, 23), (1, 31), (1, 12), (1, 7)
_NAMES = {name: number for number, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_NAMES.update({name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)})


def _number(token: str) -> int:
    return _NAMES.get(token.upper()) or int(token)


def _count(field: str, bounds: tuple[int, int]) -> int:
    """Values a cron field matches, e.g. `*` in hours -> 24, `0/15` in minutes -> 4, `MON-FRI` -> 5."""
    first, last = bounds
    total = 0
    for part in field.split(","):
        if part in ("*", "?"):
            total += last - first + 1
            continue
        if any(mark in part for mark in "LW#"):
            total += 1
            continue
        span, _, step = part.partition("/")
        if span == "*":
            start, end = first, last
        elif "-" in span:
            start, end = (_number(value) for value in span.split("-", 1))
        else:
            start = _number(span)
            end = last if step else start
        total += len(range(start, end + 1, int(step) if step else 1))
    return total


def runs_per_month(expression: str) -> float | None:
    """Expected runs in an average month (730 hours; `at`: its one run); None when the expression is not one Scheduler reads."""
    rate = _RATE.match(expression)
    if rate:
        every = int(rate.group(1)) * _MINUTES_PER[rate.group(2).rstrip("s")]
        return DAYS_PER_MONTH * 24 * 60 / every
    cron = _CRON.match(expression)
    if cron:
        minutes, hours, day_of_month, month, day_of_week, _year = cron.groups()
        if day_of_month == "?":
            days = _count(day_of_week, _DAYS_OF_WEEK) * WEEKS_PER_MONTH
        elif day_of_month == "*" and day_of_week in ("?", "*"):
            days = DAYS_PER_MONTH
        else:
            days = float(_count(day_of_month, _DAYS_OF_MONTH))
        months = _count(month, _MONTHS) / 12
        return _count(minutes, _MINUTES) * _count(hours, _HOURS) * days * months
    if expression.startswith("at("):
        return 1.0
    return None
