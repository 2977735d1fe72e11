"""Login attempts counted per operator name and per client address, so guessing is slow.

An attempt holds a place from the moment it starts, so thirty guesses sent at once are
counted as thirty, not as the one each of them saw before any had failed. A failed attempt
keeps its place for the window; a successful one gives its place back and clears the name's
failures.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

NAME_ATTEMPTS = 5  # per operator name per window
ADDRESS_ATTEMPTS = 20  # per client address per window (an office behind one address)
WINDOW_S = 300.0


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
    _held: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    @staticmethod
    def keys(name: str, address: str) -> tuple[str, str]:
        return (f"name:{name.strip().casefold()}", f"address:{address}")

    def begin(self, name: str, address: str) -> Attempt | float:
        """An attempt, or the seconds to wait before the next one may be made."""
        now = self.clock()
        keys = self.keys(name, address)
        waits = [
            self._wait(key, limit, now)
            for key, limit in zip(keys, (self.name_attempts, self.address_attempts), strict=True)
        ]
        if any(wait > 0 for wait in waits):
            return max(waits)
        for key in keys:
            self._held[key].append(now)
        return Attempt(keys, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The secret was right: its place is given back and the name starts afresh."""
        name_key, address_key = attempt.keys
        self._held.pop(name_key, None)
        self._release(address_key, attempt.at)

    def _wait(self, key: str, limit: int, now: float) -> float:
        held = self._held.get(key)
        if held is None:
            return 0.0
        while held and held[0] <= now - self.window_s:
            held.popleft()
        if not held:
            del self._held[key]
            return 0.0
        return held[0] + self.window_s - now if len(held) >= limit else 0.0

    def _release(self, key: str, at: float) -> None:
        held: Sequence[float] = self._held.get(key, ())
        if at in held:
            self._held[key].remove(at)
