"""Per-provider rate limits: one provider's retry loop must not crowd out eighty others.

A token bucket per key (the provider code a client names, or its address when it names none):
``rate`` requests a second on average, bursts of ``burst``. Only fairness rests on the key;
what a batch is and who made it is proved by its signature when it is imported.
"""

from __future__ import annotations

import math
import threading
import time

#: the provider code is the client's own claim, so one address naming ever new codes must not
#: escape its limit: every address also has a bucket ``ADDRESS_FACTOR`` times a provider's
ADDRESS_FACTOR = 10
#: buckets kept before full (idle) ones are forgotten; a full bucket is the same as none
MAX_BUCKETS = 4096


class RateLimiter:
    def __init__(self, rate: float, burst: int, clock=time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, address: str | None = None) -> float:
        """0 when a request may go ahead now, else the seconds until it may. ``address``, if
        given, is held to ``ADDRESS_FACTOR`` times the rate whatever ``key`` it names."""
        with self._lock:
            now = self.clock()
            if len(self._buckets) > MAX_BUCKETS:
                self._forget_idle(now)
            wait = self._take(f"key:{key}", now, 1)
            if wait == 0 and address is not None:
                wait = self._take(f"address:{address}", now, ADDRESS_FACTOR)
                if wait > 0:  # not let through: give the provider's token back
                    tokens, last = self._buckets[f"key:{key}"]
                    self._buckets[f"key:{key}"] = (tokens + 1, last)
            return wait

    def _take(self, bucket: str, now: float, factor: int) -> float:
        rate, burst = self.rate * factor, float(self.burst * factor)
        tokens, last = self._buckets.get(bucket, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[bucket] = (tokens - 1, now)
            return 0.0
        self._buckets[bucket] = (tokens, now)
        return (1 - tokens) / rate if rate > 0 else math.inf

    def _forget_idle(self, now: float) -> None:
        for bucket, (tokens, last) in list(self._buckets.items()):
            factor = ADDRESS_FACTOR if bucket.startswith("address:") else 1
            if tokens + (now - last) * self.rate * factor >= self.burst * factor:
                del self._buckets[bucket]
