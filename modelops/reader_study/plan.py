"""The crossover plan as plain functions of the seed (no database): which cases, which
modality order for each reader, which case order in each session. The same inputs give the
same plan, so a study's plan can be re-derived and checked from what it records."""

import numpy as np

# Seed streams of their own, so the case sample, the readers' shuffle and the case orders do
# not move together when one of them changes.
_SAMPLE, _READERS, _ORDER = 1, 2, 3


def case_sample(
    positives: list[int], negatives: list[int], case_count: int, seed: int
) -> tuple[list[int], list[int]]:
    """A seeded sample of ``case_count`` cases (ids) stratified to the source's prevalence of
    any ICH, with at least one positive and one negative: (positives, negatives) sampled."""
    total = len(positives) + len(negatives)
    if not positives or not negatives or case_count < 2 or case_count > total:
        raise ValueError("the sample needs positive and negative cases and 2..total cases")
    n_pos = round(case_count * len(positives) / total)
    n_pos = min(max(n_pos, 1), case_count - 1, len(positives))
    n_pos = max(n_pos, case_count - len(negatives))
    rng = np.random.default_rng([seed, _SAMPLE])
    chosen_pos = rng.choice(sorted(positives), size=n_pos, replace=False)
    chosen_neg = rng.choice(sorted(negatives), size=case_count - n_pos, replace=False)
    return sorted(int(i) for i in chosen_pos), sorted(int(i) for i in chosen_neg)


def modality_orders(readers: int, modalities: list[str], seed: int) -> list[list[str]]:
    """Each reader's order of the modalities, indexed by the reader's place in the given list.

    The sequences are the rows of a cyclic Latin square and, with three modalities, of its
    mirror image too (a Williams design: in each block of six readers every modality follows
    every other equally often, so carry-over balances out); they are dealt in turn over a
    seeded shuffle of the readers, so at every place in the order the number of readers
    meeting each modality there differs by at most one between modalities."""
    m = len(modalities)
    sequences = [[modalities[(row + k) % m] for k in range(m)] for row in range(m)]
    if m > 2:
        sequences += [[modalities[(row - k) % m] for k in range(m)] for row in range(m)]
    shuffled = np.random.default_rng([seed, _READERS]).permutation(readers)
    orders: list[list[str]] = [[] for _ in range(readers)]
    for turn, reader in enumerate(shuffled):
        orders[int(reader)] = list(sequences[turn % len(sequences)])
    return orders


def case_order(cases: int, seed: int, reader_index: int, sequence: int) -> list[int]:
    """The order (indices into the study's cases) of one reader's one session: its own seeded
    permutation."""
    rng = np.random.default_rng([seed, _ORDER, reader_index, sequence])
    return [int(i) for i in rng.permutation(cases)]
