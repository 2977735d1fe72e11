"""The worker's producer asks what every producer of the project asks (`PRODUCER_GUARANTEES`).

Faust 0.15.3 sends with `producer_acks` (-1, every in-sync replica, by default) but turns on
idempotence only inside transactions, which this project does not use (DESIGN: effectively
once comes from deterministic ids and idempotent readers). Without it a send retried after a
lost acknowledgement (a broker restart, a leader moving) can be written twice, and a retry
behind a failed batch can land out of order. Here the app's transport builds a producer whose
settings add the guarantees; the producer thread takes its settings from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.kafka_access import PRODUCER_GUARANTEES
from streams.transport_mends import replace_transport_class


class GuaranteedProducer(faust_aiokafka.Producer):
    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), **PRODUCER_GUARANTEES}


def install(app: faust.App) -> None:
    """Make `app` build the guaranteed producer; before anything has asked for `app.producer`."""
    replace_transport_class(app, "Producer", GuaranteedProducer, "guaranteed producer")
