"""How simulated departments and towns work their orders: what they do, and when.

Pure: the caller passes the work order, a `random.Random` seeded with `decision_key(order)`
and the speed. The same order always gives the same plan, with action ids derived from the
order id, so a simulator that restarts and plans an order again repeats the same actions,
which the ticket agent recognises and ignores.

Delays are in simulated seconds at speed 1 (a demo's minutes stand for a department's
days) and divided by the speed. A co unit always reports its part before the lead can
complete: the lead completes `SETTLE_S` (real seconds) after the slowest co unit
(`CO_SIGN_S` + `CO_REPORT_S`) would have reported, both counted from the same dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Literal

from schemas.actions import UNIT_ACTION, ReturnReasonCode, UnitAction, UnitActionType
from schemas.orders import WorkOrder

Awaiting = Literal["extension", "return"]
Span = tuple[float, float]

LEAD_SIGN_S: Span = (5.0, 30.0)
LEAD_WORK_S: Span = (40.0, 150.0)
CO_SIGN_S: Span = (3.0, 15.0)
CO_REPORT_S: Span = (5.0, 25.0)
RESUME_S: Span = (5.0, 40.0)
REPORT_IN_S: Span = (3.0, 20.0)
# Real seconds, not scaled by the speed: how long the actions of different units may take to
# reach the ticket agent from their own topics. A lead completes no earlier than this after
# the slowest co unit would have reported, however fast the simulation runs (6 s: with 2 s,
# a co unit's report reached a completed ticket once in a full, loaded test run).
SETTLE_S = 6.0
# Urgent and emergency tickets are signed and worked this much faster.
URGENCY_PACE = {"normal": 1.0, "urgent": 0.5, "emergency": 0.25}


@dataclass(frozen=True)
class Habits:
    """How often units do what: shares in [0, 1]."""

    lead_returns: float = 0.08
    co_returns: float = 0.03
    returns_after_signing: float = 0.3
    notes_progress: float = 0.6
    asks_extension: float = 0.1
    completes_late: float = 0.1
    late_factor: float = 3.0


HABITS = Habits()
_RETURNS: dict[ReturnReasonCode, str] = {
    "not_our_duty": "经核实，该诉求不属本单位职责范围，请改派相关职能部门。",
    "wrong_town": "经现场核实，诉求地点不在本辖区，请改派属地。",
    "insufficient_information": "诉求地址不详，多次联系来电人未果，无法核实处理。",
}
_TOWN_RETURN = "属地无执法权，需职能部门依法处理，请改派或吹哨相关部门。"
_EXTENSIONS = (
    ("3wd", "需协调施工单位，材料采购中，申请延期。"),
    ("5wd", "涉及多个部门，需联合现场会商，申请延期。"),
    ("10wd", "需列入维修计划并走审批程序，申请延期。"),
)
_NOTES = (
    "已安排工作人员到现场查看，正在制定处理方案。",
    "已与来电人电话联系，约定上门时间。",
    "已联系相关责任方，督促其限期整改。",
)
_FIXES = (
    "已安排人员现场处理完毕",
    "已责令责任方整改到位",
    "已协调相关单位解决",
    "已向来电人解释相关政策并提供办理指引",
)
_LATE = "因天气和施工协调原因未能按期办结，现已处理完毕。"


@dataclass(frozen=True)
class Step:
    """One action the unit will write to its actions topic, at `at`."""

    at: datetime
    action: UnitAction


@dataclass(frozen=True)
class Plan:
    """What a unit will do with an order; `awaiting` what it then waits for from the hotline."""

    steps: tuple[Step, ...]
    awaiting: Awaiting | None = None
    signed: bool = False  # whether the unit signed before it started waiting


class _Planner:
    """Builds a plan's steps: times from the order's moment, ids `sim:<order_id>:<n>:<type>`."""

    def __init__(self, order: WorkOrder, rng: Random, speed: float, start: datetime) -> None:
        self.order, self.rng = order, rng
        self.pace = URGENCY_PACE.get(order.urgency, 1.0) / max(speed, 1e-6)
        self.start = self.at = start
        self.steps: list[Step] = []

    def wait(self, span: Span, factor: float = 1.0) -> None:
        self.at += timedelta(seconds=self.rng.uniform(*span) * factor * self.pace)

    def act(self, action_type: UnitActionType, **fields: object) -> None:
        action_id = f"sim:{self.order.order_id}:{len(self.steps)}:{action_type}"
        header = {"type": action_type, "action_id": action_id, "ticket_id": self.order.ticket_id}
        action = UNIT_ACTION.validate_python(header | {"acted_at": self.at} | fields)
        self.steps.append(Step(at=self.at, action=action))

    def plan(self, awaiting: Awaiting | None = None, signed: bool = False) -> Plan:
        return Plan(steps=tuple(self.steps), awaiting=awaiting, signed=signed)


def decision_key(order: WorkOrder) -> str:
    """What a unit's choices for an order are drawn from: the ticket, the unit and what the
    order says, not its id (which numbers the ticket's events). The same situation gets the
    same choices however the units' actions happened to interleave."""
    parts = (order.ticket_id, order.unit, order.role, order.kind, f"r{order.rework_count}", order.lead)
    return ":".join((*parts, order.whistle_id or "", order.note or ""))


def respond(
    order: WorkOrder, held: Plan | None, rng: Random, speed: float = 1.0, habits: Habits = HABITS
) -> Plan | None:
    """A unit's plan for a ticket after one record of its orders topic; None: nothing to do.

    `held` is what is left of the plan the unit had. A new order replaces it, a cancellation
    ends it, an update resumes it when it was waiting for the hotline's decision (and is
    ignored otherwise: the lead changed, for a co unit). A whistle (吹哨) is answered apart:
    see `plan_report_in`.
    """
    if order.kind == "cancel":
        return None
    if order.kind == "order":
        return plan_order(order, rng, speed, habits)
    if order.kind == "update" and held is not None and held.awaiting is not None and not held.steps:
        return plan_resumption(order, held.awaiting, held.signed, rng, speed, habits)
    return held


def plan_report_in(order: WorkOrder, rng: Random, speed: float = 1.0) -> Plan:
    """部门报到: a whistled unit reports in to the town, a little after the whistle."""
    planner = _Planner(order, rng, speed, order.dispatched_at)
    planner.wait(REPORT_IN_S)
    planner.act("report_in", whistle_id=order.whistle_id, note="已到场报到，配合属地处置。")
    return planner.plan()


def plan_order(order: WorkOrder, rng: Random, speed: float = 1.0, habits: Habits = HABITS) -> Plan:
    """What a unit does with a new order (dispatch, redispatch to it, rework)."""
    planner = _Planner(order, rng, speed, order.dispatched_at)
    fresh = order.rework_count == 0
    if order.role == "co":
        planner.wait(CO_SIGN_S)
        if fresh and rng.random() < habits.co_returns:
            planner.act("return", reason_code="not_our_duty", reason=_RETURNS["not_our_duty"])
            return planner.plan()
        planner.act("sign")
        planner.wait(CO_REPORT_S)
        planner.act("report_part", report=f"协办部分已完成：{rng.choice(_FIXES)}。")
        return planner.plan()
    planner.wait(LEAD_SIGN_S)
    if fresh and rng.random() < habits.lead_returns:
        signed = rng.random() < habits.returns_after_signing
        if signed:
            planner.act("sign")
            planner.wait(RESUME_S)
        code, reason = _return_reason(order, rng)
        planner.act("return", reason_code=code, reason=reason)
        return planner.plan(awaiting="return", signed=signed)
    planner.act("sign")
    return _work(planner, habits)


def plan_resumption(
    order: WorkOrder,
    awaiting: Awaiting,
    signed: bool,
    rng: Random,
    speed: float = 1.0,
    habits: Habits = HABITS,
) -> Plan:
    """What the lead does once the hotline has decided its extension or return (an `update`)."""
    planner = _Planner(order, rng, speed, order.dispatched_at)
    planner.wait(RESUME_S)
    if awaiting == "return" and not signed:
        planner.act("sign")
    no_more_extensions = Habits(**{**habits.__dict__, "asks_extension": 0.0})
    return _work(planner, no_more_extensions, noted=awaiting == "extension")


def _work(planner: _Planner, habits: Habits, noted: bool = False) -> Plan:
    """After signing: progress, perhaps an extension (then wait), and the completion."""
    rng = planner.rng
    late = rng.random() < habits.completes_late
    if not noted and rng.random() < habits.notes_progress:
        planner.wait(LEAD_WORK_S, 0.3)
        planner.act("note_progress", note=rng.choice(_NOTES))
    if rng.random() < habits.asks_extension:
        planner.wait(RESUME_S)
        extra, reason = rng.choice(_EXTENSIONS)
        planner.act("request_extension", extra=extra, reason=reason)
        return planner.plan(awaiting="extension", signed=True)
    planner.wait(LEAD_WORK_S, habits.late_factor if late else 1.0)
    co_done = (CO_SIGN_S[1] + CO_REPORT_S[1]) * planner.pace + SETTLE_S
    planner.at = max(planner.at, planner.start + timedelta(seconds=co_done))
    planner.act("complete", reply=_reply(planner.order, rng, late))
    return planner.plan()


def _return_reason(order: WorkOrder, rng: Random) -> tuple[ReturnReasonCode, str]:
    if order.unit == order.town:
        return "lacks_power", _TOWN_RETURN  # a town returns what it has no power to enforce
    code: ReturnReasonCode = rng.choice(
        ("not_our_duty", "not_our_duty", "wrong_town", "insufficient_information")
    )
    return code, _RETURNS[code]


def _reply(order: WorkOrder, rng: Random, late: bool) -> str:
    place = order.town_name or "现场"
    reply = f"您反映的{order.category_name}问题，我单位已派员到{place}核实，{rng.choice(_FIXES)}。"
    return reply + (_LATE if late else "") + "如有疑问请再致电12345。"
