"""Fault injection, for the tests that prove no message is lost: off unless configured.

`SHAOBAO_FAULTS` lists `agent:kind@n`, comma-separated. `crash@n` raises, as the agent
takes up its n-th message, an exception that escapes the boundary's handling (as a failing
dead-letter write would), so the worker stops without committing; it fires once. `poison@n`
makes the agent's n-th distinct message (by topic, partition and offset) fail with an
ordinary exception every time it is processed, as a truly bad message does, so the boundary
dead-letters it. With `SHAOBAO_FAULTS_FILE`, the counts, the crashes fired and the poisoned
messages are kept in that file, so a restarted worker goes on where the last one stopped:
each crash fires once per run, and a poisoned message stays poisoned when it is read again.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)
Kind = Literal["crash", "poison"]


class InjectedFault(Exception):
    """A configured poison: the boundary dead-letters the message."""


class InjectedCrash(BaseException):
    """A configured crash: nothing in an agent handles it, so the worker stops."""


@dataclass(frozen=True)
class Fault:
    agent: str
    kind: Kind
    at: int

    @property
    def spec(self) -> str:
        return f"{self.agent}:{self.kind}@{self.at}"


@dataclass
class Faults:
    planned: tuple[Fault, ...] = ()
    ledger: Path | None = None
    _state: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def none(cls) -> Faults:
        return cls()

    @classmethod
    def parse(cls, spec: str, ledger_file: str = "") -> Faults:
        spec = spec.strip()
        if not spec:
            return cls()
        faults = tuple(_parse(part) for part in spec.split(",") if part.strip())
        log.warning("fault injection is on: %s", ", ".join(f.spec for f in faults))
        return cls(faults, Path(ledger_file) if ledger_file else None)

    def before(self, agent: str, position: str = "") -> None:
        """Called as an agent takes up a message: raises the fault planned for it, if any."""
        mine = [f for f in self.planned if f.agent == agent]
        if not mine:
            return
        state = self._load()
        counts, seen = state.setdefault("counts", {}), state.setdefault("seen", {})
        fired, poisoned = state.setdefault("fired", []), state.setdefault("poisoned", {})
        counts[agent] = counts.get(agent, 0) + 1
        known = seen.setdefault(agent, [])
        if position and position not in known:
            known.append(position)
        raised: BaseException | None = None
        for fault in mine:
            if fault.kind == "crash" and fault.at == counts[agent] and fault.spec not in fired:
                fired.append(fault.spec)
                raised = InjectedCrash(fault.spec)
            elif fault.kind == "poison" and position:
                if len(known) == fault.at and position == known[-1] and fault.spec not in fired:
                    fired.append(fault.spec)
                    poisoned.setdefault(agent, []).append(position)
                if position in poisoned.get(agent, []):
                    raised = raised or InjectedFault(f"{fault.spec} on {position}")
        self._save(state)
        if raised is not None:
            log.warning("injecting %s", raised)
            raise raised

    def fired(self) -> list[str]:
        return list(self._load().get("fired", []))

    def _load(self) -> dict[str, Any]:
        if self.ledger is not None and self.ledger.exists() and not self._state:
            self._state = json.loads(self.ledger.read_text() or "{}")
        return self._state

    def _save(self, state: dict[str, Any]) -> None:
        self._state = state
        if self.ledger is None:
            return
        partial = self.ledger.with_suffix(".partial")
        partial.write_text(json.dumps(state))
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.replace(self.ledger)


def _parse(part: str) -> Fault:
    try:
        agent, rest = part.strip().split(":", 1)
        kind, at = rest.split("@", 1)
        if kind not in ("crash", "poison"):
            raise ValueError(kind)
        return Fault(agent, "crash" if kind == "crash" else "poison", int(at))
    except ValueError as exc:
        raise ValueError(f"SHAOBAO_FAULTS: {part!r} is not agent:crash@N or agent:poison@N") from exc
