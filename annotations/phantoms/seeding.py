"""Deterministic randomness for the phantom: one named stream per purpose.

Why named streams: the anatomy, the lesions, the noise and the header conventions each draw from
their own generator keyed by (seed, center, index, purpose). Adding a draw to one of them never
shifts the others, and the same seed always gives byte-identical files. The center name is mixed in
so that five centers seeded with the same number still get different patients and UIDs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
from pydicom.uid import generate_uid

T = TypeVar("T")

_UID_NAMESPACE = "ichlabel-phantom-v1"


def center_key(center: str | None) -> int:
    """A stable 32-bit number for a center name (0 for no center); Python's hash() is salted."""
    if not center:
        return 0
    return int.from_bytes(hashlib.sha256(center.encode("utf-8")).digest()[:4], "big")


def purpose_key(purpose: str) -> int:
    """A stable 32-bit number for a stream name."""
    return int.from_bytes(hashlib.sha256(purpose.encode("ascii")).digest()[:4], "big")


def stream(seed: int, center: str | None, index: int, purpose: str) -> np.random.Generator:
    """The random generator for one purpose of one scan (or of one block of scans)."""
    if seed < 0 or index < 0:
        raise ValueError("seed and index must be non-negative")
    entropy = [seed, center_key(center), index, purpose_key(purpose)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def cycled_choice(
    seed: int, center: str | None, index: int, purpose: str, options: Sequence[T]
) -> T:
    """Pick an option so that every block of 10 consecutive scans (0-9, 10-19...) holds each one.

    A plain random choice would leave some option out of a small set now and then; tests and demos
    need every header convention (and every subtype) to show up in any 10 scans. The block is
    shuffled from the seed, so the order still looks arbitrary.
    """
    if not 1 <= len(options) <= 10:
        raise ValueError("cycled_choice needs 1 to 10 options")
    block, slot = divmod(index, 10)
    order = stream(seed, center, block, "deck:" + purpose).permutation(10)
    return options[int(order[slot]) % len(options)]


def phantom_uid(seed: int, center: str | None, *parts: object) -> str:
    """A valid DICOM UID that depends only on the seed, the center and the given parts."""
    sources = [_UID_NAMESPACE, str(seed), center or "", *(str(p) for p in parts)]
    return str(generate_uid(entropy_srcs=sources))
