"""Running `shaobao …` as a user does, against a test pipeline's topics."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from tests.integration.conftest import Stack


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


async def shaobao(stack: Stack, *args: str, timeout_s: float = 90.0) -> Ran:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shaobao.cli",
        *args,
        env=stack.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())
