"""Batches prepared ahead by a thread: same order, errors raised where they are consumed, and
no thread left behind when the consumer stops early."""

import threading
import time
from contextlib import closing

import pytest

from modelops.ml.data import prefetch


def test_prefetch_keeps_the_order():
    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))


def test_a_producer_error_is_raised_in_the_consumer():
    def broken():
        yield 1
        raise ValueError("unreadable scan")

    stream = prefetch(broken())
    assert next(stream) == 1
    with pytest.raises(ValueError, match="unreadable scan"):
        next(stream)


def test_stopping_early_stops_the_thread():
    def endless():
        n = 0
        while True:
            n += 1
            yield n

    with closing(prefetch(endless(), depth=2)) as stream:
        assert [next(stream) for _ in range(3)] == [1, 2, 3]
    deadline = time.monotonic() + 5
    while any(t.name == "batch-prefetch" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the prefetch thread is still running"
        time.sleep(0.05)
