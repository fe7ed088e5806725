"""How a scan is read, by split (the paper's design): one place that assignment, the
adjudication queue and the ground-truth freeze all follow.

- training scans: one neuroradiologist labels slices (the primary read is the ground truth);
- validation scans: the primary reader plus two blinded cross-readers label slices, and the
  per-slice majority (2 of 3) is the ground truth;
- prospective test scans: three radiologists label the whole scan; the scan-level majority.
"""

from annotations.models import ReadLevel, Split

REQUIRED_READS = {Split.TRAIN: 1, Split.VALIDATION: 3, Split.TEST: 3}


LEVEL_BY_SPLIT = {
    Split.TRAIN: ReadLevel.SLICE,
    Split.VALIDATION: ReadLevel.SLICE,
    Split.TEST: ReadLevel.SCAN,
}


def required_reads_sql(split_column: str) -> str:
    """The reads a scan needs, as an SQL expression over its split column."""
    cases = " ".join(f"WHEN '{split}' THEN {n}" for split, n in REQUIRED_READS.items())
    return f"(CASE {split_column} {cases} ELSE 3 END)"
