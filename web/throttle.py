"""How often a name, an address or a key may try: sliding windows, in this web process.

Login attempts are counted per operator name and per client address, so guessing is slow.
An attempt holds a place from the moment it starts, so thirty guesses sent at once are
counted as thirty, not as the one each of them saw before any had failed. A failed attempt
keeps its place for the window; a successful one gives its place back and clears the name's
failures. Intake and Open311 requests are counted per key and per address (`RateLimit`).

Counts belong to one web process: several web processes share none, so with N of them
behind a balancer a name, an address or a key gets up to N times its allowance.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

NAME_ATTEMPTS = 5  # per operator name per window
ADDRESS_ATTEMPTS = 20  # per client address per window (an office behind one address)
WINDOW_S = 300.0
_SWEEP_EVERY = 1000  # calls between sweeps of keys whose window has passed


@dataclass
class SlidingWindow:
    """The moments each key was counted in the last `window_s` seconds."""

    window_s: float
    _held: dict[str, deque[float]] = field(default_factory=dict)
    _calls: int = 0

    def wait(self, key: str, limit: int, now: float) -> float:
        """0 when `key` may be counted again now, else the seconds until it may."""
        held = self._held.get(key)
        if held is None:
            return 0.0
        while held and held[0] <= now - self.window_s:
            held.popleft()
        if not held:
            del self._held[key]
            return 0.0
        return held[0] + self.window_s - now if len(held) >= limit else 0.0

    def hold(self, key: str, now: float) -> None:
        self._held.setdefault(key, deque()).append(now)
        self._calls += 1
        if self._calls % _SWEEP_EVERY == 0:
            # Keys seen once (an address, a guessed name) would otherwise stay for good.
            stale = [k for k, moments in self._held.items() if moments[-1] <= now - self.window_s]
            for k in stale:
                del self._held[k]

    def release(self, key: str, at: float) -> None:
        held = self._held.get(key)
        if held is not None and at in held:  # gone already if the window passed meanwhile
            held.remove(at)

    def forget(self, key: str) -> None:
        self._held.pop(key, None)

    def admit(self, limits: Sequence[tuple[str, int]], now: float) -> float:
        """Count `now` for every key if none is at its limit; else the longest wait, counting none."""
        waits = [self.wait(key, limit, now) for key, limit in limits]
        if any(wait > 0 for wait in waits):
            return max(waits)
        for key, _ in limits:
            self.hold(key, now)
        return 0.0


@dataclass
class Attempt:
    keys: tuple[str, ...]
    at: float


@dataclass
class LoginThrottle:
    name_attempts: int = NAME_ATTEMPTS
    address_attempts: int = ADDRESS_ATTEMPTS
    window_s: float = WINDOW_S
    clock: Callable[[], float] = time.monotonic
    _window: SlidingWindow = field(init=False)

    def __post_init__(self) -> None:
        self._window = SlidingWindow(self.window_s)

    @staticmethod
    def keys(name: str, address: str) -> tuple[str, str]:
        return (f"name:{name.strip().casefold()}", f"address:{address}")

    def begin(self, name: str, address: str) -> Attempt | float:
        """An attempt, or the seconds to wait before the next one may be made."""
        now = self.clock()
        keys = self.keys(name, address)
        wait = self._window.admit(
            list(zip(keys, (self.name_attempts, self.address_attempts), strict=True)), now
        )
        return wait if wait > 0 else Attempt(keys, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The secret was right: its place is given back and the name starts afresh."""
        name_key, address_key = attempt.keys
        self._window.forget(name_key)
        self._window.release(address_key, attempt.at)


@dataclass
class RateLimit:
    """At most `per_address` requests from one client address and `per_key` with one key in
    any `window_s` seconds (sliding). The address is counted first, before any key is
    checked, so guessing keys is as slow as anything else from that address."""

    per_address: int
    per_key: int = 0  # 0: the requests carry no key (Open311's public reads)
    window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _window: SlidingWindow = field(init=False)

    def __post_init__(self) -> None:
        self._window = SlidingWindow(self.window_s)

    def admit_address(self, address: str) -> float:
        """0 to go ahead (the request is counted), else the seconds until the next may."""
        return self._window.admit([(f"address:{address}", self.per_address)], self.clock())

    def admit_key(self, key: str) -> float:
        return self._window.admit([(f"key:{key}", self.per_key)], self.clock())
