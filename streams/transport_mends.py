"""Giving one Faust app a mended consumer or producer class of our own (no change to the library)."""

from __future__ import annotations

from typing import Literal

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka


def replace_transport_class(
    app: faust.App, role: Literal["Consumer", "Producer"], mended: type, what: str
) -> None:
    """Make `app`'s transport build `mended` as its `role`, before the app has built one.

    A memory transport (a test's) is left as it is; a transport whose class is not Faust's
    aiokafka one means the library changed under the mend, which must then be re-checked."""
    kind = role.lower()
    if getattr(app, f"_{kind}") is not None:
        raise RuntimeError(f"install the {what} before the app's {kind} is created")
    transport = app.transport
    if not isinstance(transport, faust_aiokafka.Transport):
        return
    current = getattr(type(transport), role)
    if current is not getattr(faust_aiokafka, role):
        raise RuntimeError(f"unexpected {kind} class {current!r}; re-check the mend")
    setattr(transport, role, mended)  # this app's transport only
