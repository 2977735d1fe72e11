"""A legacy hotline CSV export of any size for the backfill bench, in the format
`shaobao import csv` reads (`domain.intake.legacy_csv`): texts from the shipped corpus, with varied
ticket numbers, phones, callers, addresses, channels (as old systems wrote them) and times
(in every layout the importer takes), and the few broken rows a real export has."""

from __future__ import annotations

import csv
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from streams.settings import REPO_ROOT

CORPUS_DIR = REPO_ROOT / "data" / "corpus"
HEADER = ("工单编号", "来电时间", "诉求内容", "来电号码", "来电人", "地址", "渠道", "承办单位")
CHANNEL_WORDS: tuple[str, ...] = ("电话", "电话", "电话", "12345热线", "网站", "微信", "微信公众号")
CHANNEL_WORDS += ("客户端", "短信", "市长信箱", "110转办", "12369环保热线", "")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
TITLES = ("先生", "女士", "师傅", "老师", "阿姨", "大爷")
UNITS = ("城管局", "住建局", "交通局", "卫健局", "生态环境局", "市场监管局", "供电公司", "水务公司", "")
PHONE_PREFIXES: tuple[str, ...] = ("138", "139", "135", "136", "137", "150", "151", "152", "158", "159")
PHONE_PREFIXES += ("182", "187")
PHONE_PREFIXES += ("188", "189", "180", "181", "199", "177", "133", "153", "173", "0731-8", "0731-2")
LAYOUTS: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M")
LAYOUTS += ("%Y-%m-%dT%H:%M:%S+08:00",)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
START = datetime(2019, 1, 1, 8, 0)  # noqa: DTZ001 - local time, as old systems wrote it
SPAN_S = int((datetime(2026, 6, 30) - START).total_seconds())  # noqa: DTZ001
BROKEN_EVERY = 10_000  # one row in so many cannot be an appeal (a date without a time, a fax)


def corpus_texts() -> list[tuple[str, str]]:
    """(text, address) of every appeal in the shipped labelled files."""
    found = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                found.append((record["text"], record.get("address") or ""))
    return found


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(PHONE_PREFIXES)
    digits = "".join(rng.choices("0123456789", k=(11 - len(prefix)) if prefix[0] == "1" else 7))
    number = prefix + digits
    # Some old systems stored full-width digits (the importer normalises them).
    return number.translate(FULL_WIDTH) if rng.random() < 0.02 else number


def row(n: int, rng: random.Random, texts: list[tuple[str, str]], run: str) -> list[str]:
    """The `n`th data row: mostly good, one in `BROKEN_EVERY` refused by the importer."""
    text, address = rng.choice(texts)
    at = START + timedelta(seconds=rng.randrange(SPAN_S))
    when = at.strftime(rng.choice(LAYOUTS))
    channel = rng.choice(CHANNEL_WORDS)
    if n % BROKEN_EVERY == BROKEN_EVERY - 1:
        if n // BROKEN_EVERY % 2:
            when = at.strftime("%Y-%m-%d")  # a date alone: bad_time
        else:
            channel = "传真"  # fax: unknown_channel
    anonymous = rng.random() < 0.15
    phone = "" if anonymous else _phone(rng)
    name = "" if anonymous or rng.random() < 0.3 else rng.choice(SURNAMES) + rng.choice(TITLES)
    ticket_no = f"BF{run}-{n:08d}" if rng.random() > 0.01 else ""  # a few rows without a number
    return [ticket_no, when, text, phone, name, address, channel, rng.choice(UNITS)]


def write_legacy_csv(path: Path, rows: int, seed: int = 20, run: str = "") -> None:
    """`rows` data rows after the header, UTF-8 with a BOM (Excel's "CSV UTF-8")."""
    rng = random.Random(seed)
    texts = corpus_texts()
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(row(n, rng, texts, run))
