"""The partitioner: Kafka's murmur2, the same as aiokafka's (and the Java client's)."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.partitioning import murmur2, partition_for


@settings(max_examples=2000)
@given(st.binary(max_size=80))
def test_murmur2_is_aiokafkas(data: bytes) -> None:
    assert murmur2(data) == aiokafka_murmur2(data)


@given(st.binary(min_size=1, max_size=60), st.integers(1, 64))
def test_a_key_goes_where_aiokafkas_default_partitioner_sends_it(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert partition_for(key, partitions) == DefaultPartitioner()(key, every, every)


def test_known_values_of_the_java_client() -> None:
    # org.apache.kafka.common.utils.UtilsTest#testMurmur2 (as unsigned 32-bit values)
    assert murmur2(b"21") & 0xFFFFFFFF == (-973932308) & 0xFFFFFFFF
    assert murmur2(b"foobar") & 0xFFFFFFFF == (-790332482) & 0xFFFFFFFF
    assert murmur2(b"a-little-bit-long-string") & 0xFFFFFFFF == (-985981536) & 0xFFFFFFFF
