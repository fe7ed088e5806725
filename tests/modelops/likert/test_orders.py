"""Readers' orders of a Likert study's cases: permutations, different per reader, and never the
two maps of a slice one after the other."""

import pytest

from modelops.likert.services import reader_orders


@pytest.mark.parametrize("seed", range(20))
def test_orders_keep_a_slices_two_maps_apart_and_differ_between_readers(seed):
    slices = [slice_ for slice_ in range(8) for _method in range(2)]

    orders = reader_orders(slices, 3, seed)

    for order in orders:
        assert sorted(order) == list(range(16))
        assert all(slices[a] != slices[b] for a, b in zip(order, order[1:], strict=False))
    assert len({tuple(order) for order in orders}) == 3


def test_an_order_is_reproducible_from_the_seed():
    slices = [0, 0, 1, 1, 2, 2]
    assert reader_orders(slices, 2, 5) == reader_orders(slices, 2, 5)
    assert reader_orders([7], 2, 0) == [[0], [0]], "one case: every reader sees it"
