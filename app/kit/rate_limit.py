"""Token buckets kept in the process: each key may spend `per_minute` requests at once and earns
them back evenly over a minute. With several processes each keeps its own buckets, so the limit
a client meets is this one times the processes that answer it."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self.max_keys = max_keys
        self.clock = clock
        # key -> (tokens left, when counted); the least recently seen key is forgotten first,
        # so memory stays bounded however many keys a flood invents.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """Spend one request of `key`: None if it may go on, else the seconds until it may."""
        now = self.clock()
        with self._lock:
            tokens, counted = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - counted) * self.refill_per_second)
            wait = None if tokens >= 1 else (1 - tokens) / self.refill_per_second
            self._buckets[key] = (tokens - 1 if wait is None else tokens, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


def retry_after(wait: float) -> str:
    """The `Retry-After` value for a wait: whole seconds, never zero."""
    return str(max(1, math.ceil(wait)))
