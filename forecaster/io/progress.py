"""How far a long step has got, in lines a person reads while waiting: what is done of how much, the time
spent and the time left, at most one line every few seconds."""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

EVERY_SECONDS = 5.0  # the least time between two lines


class Progress:
    """Call with the count done so far; says `what` (e.g. "statistical fits") when EVERY_SECONDS have passed
    since the last line and the step is not finished, the time left estimated from the pace so far."""

    def __init__(
        self,
        log: Callable[[str], None],
        what: str,
        total: int,
        every: float | None = None,
        clock: Callable[[], float] = perf_counter,
    ):
        self.log, self.what, self.total, self.clock = log, what, total, clock
        self.every = EVERY_SECONDS if every is None else every
        self.started = self.said = clock()

    def __call__(self, done: int) -> None:
        now = self.clock()
        if done >= self.total or now - self.said < self.every or done <= 0:
            return
        self.said = now
        spent = now - self.started
        left = spent * (self.total - done) / done
        self.log(f"  {self.what}: {done:,} of {self.total:,} done ({spent:.0f} s, about {left:.0f} s left)")
