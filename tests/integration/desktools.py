"""The desk's test helpers: an in-memory knowledge base (`web.ports.KbSearcher`) over a few
entries, scored by the two-character words a text shares with an entry's questions, title and
tags, and the desk's appeals as they landed on `appeals.intake`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from domain.kb import entries_from_document
from infra.postgres.kb_store import AsyncpgKbStore
from infra.postgres.store import AsyncpgTicketStore
from infra.reference import load_jurisdiction
from schemas.appeal import Appeal
from schemas.kb import KbEntry, KbMatch, KbSource
from streams.kafka_access import KafkaAccess
from streams.settings import Settings
from tests.integration.kafkatools import read_all

TODAY = datetime.now(UTC).date()


def bigrams(text: str) -> set[str]:
    return {
        text[i : i + 2] for i in range(len(text) - 1) if not any(c in "，。？！、 " for c in text[i : i + 2])
    }


@dataclass
class InMemoryKbSearcher:
    entries: tuple[KbEntry, ...]
    today: date = TODAY

    async def search(self, text: str, limit: int = 5) -> tuple[KbMatch, ...]:
        wanted = bigrams(text)
        found: list[KbMatch] = []
        for entry in self.entries:
            words = set(entry.tags) | bigrams(entry.title + "".join(entry.questions))
            shared = sorted(word for word in words if word in text or word in wanted)
            if shared:
                found.append(
                    KbMatch(
                        entry=entry,
                        score=float(len(shared)),
                        why=tuple(shared[:5]),
                        current=entry.valid_on(self.today),
                    )
                )
        found.sort(key=lambda m: (-m.score, m.entry.entry_id))
        return tuple(found[:limit])


def kb_entry(entry_id: str, title: str, questions: tuple[str, ...], answer: str, **more: object) -> KbEntry:
    fields: dict[str, object] = {
        "entry_id": entry_id,
        "title": title,
        "unit": "gjj",
        "categories": ("housing.fund",),
        "questions": questions,
        "answer": answer,
        "source": KbSource(document="《住房公积金管理条例》", article="第二十四条"),
        "valid_from": date(2024, 1, 1),
    }
    return KbEntry.model_validate(fields | more)


HOUSING_FUND = (
    kb_entry(
        "gjj.rent-withdrawal",
        "租房提取住房公积金",
        ("租房能不能提取住房公积金", "公积金租房提取需要什么材料"),
        "无房职工租房可提取住房公积金：携带身份证、租房合同到公积金管理部窗口办理，每年可提取一次。",
        tags=("公积金", "租房", "提取"),
    ),
    kb_entry(
        "gjj.balance",
        "查询住房公积金余额",
        ("公积金余额怎么查",),
        "可通过公积金管理部网站、手机应用或拨打服务热线查询个人账户余额。",
        tags=("公积金", "余额"),
    ),
    kb_entry(
        "gjj.rent-withdrawal-2019",
        "租房提取住房公积金（2019 年办法）",
        ("租房提取公积金",),
        "按 2019 年办法，租房提取须提供备案的租赁合同。",
        tags=("公积金", "租房", "提取"),
        valid_from=date(2019, 1, 1),
        valid_to=date(2020, 12, 31),
    ),
    kb_entry(
        "gjj.loan",
        "住房公积金贷款额度",
        ("公积金贷款能贷多少",),
        "贷款额度按缴存余额和还款能力核定，最高 60 万元。",
        tags=("公积金", "贷款"),
    ),
    kb_entry(
        "cgj.fumes",
        "餐饮油烟投诉",
        ("饭店油烟大怎么办",),
        "餐饮油烟由城管执法部门查处，请提供具体地址。",
        unit="cgj",
        categories=("fumes.catering",),
        tags=("油烟",),
    ),
)


async def desk_appeals(kafka: KafkaAccess, topic: str) -> dict[str, list[Appeal]]:
    """The desk's appeals on the intake topic now, by source id."""
    found: dict[str, list[Appeal]] = {}
    for _key, value in await read_all(kafka, topic):
        if value and b'"desk":{' in value:  # without a decision: "desk":null; a tombstone: None
            appeal = Appeal.model_validate_json(value)
            found.setdefault(appeal.source_id, []).append(appeal)
    return found


SAMPLE_KB = Path(__file__).resolve().parents[2] / "data" / "kb" / "sample-county.yaml"


async def import_sample_kb(settings: Settings) -> int:
    """The sample county's knowledge base into the settings' database, as `make run` does, in
    place of whatever entries the session's other tests left there."""
    read = entries_from_document(
        yaml.safe_load(SAMPLE_KB.read_text(encoding="utf-8")), load_jurisdiction(settings.jurisdiction_file)
    )
    store = AsyncpgTicketStore(settings.database_url)
    try:
        await (await store.pool()).execute("TRUNCATE kb_versions, kb_entries")
        kb = AsyncpgKbStore(store)
        for entry in read.entries:
            await kb.upsert(entry, by="测试导入", imported=True)
    finally:
        await store.close()
    return len(read.entries)
