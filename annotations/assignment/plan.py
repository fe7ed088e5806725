"""How a scan is read, by split (the paper's design): one place that assignment, the
adjudication queue and the ground-truth freeze all follow.

- training scans: one neuroradiologist labels slices (the primary read is the ground truth);
- validation scans: the primary reader plus two blinded cross-readers label slices, and the
  per-slice majority (2 of 3) is the ground truth;
- prospective test scans: three radiologists label the whole scan; the scan-level majority.
"""

from annotations.models import ReadKind, ReadLevel, Split

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


# The reads of a test scan are kinds primary and cross like any other, but all three are
# read alike at scan level: they are named as one role wherever reads are listed.
SCAN_LEVEL_ROLE = "Scan-level read of the test set"


def read_role(*, kind: str, level: str) -> str:
    """A read's role as the reading page names it: "Primary read", "Cross-read" or, for every
    read of a test scan, "Scan-level read of the test set"."""
    if level == ReadLevel.SCAN:
        return SCAN_LEVEL_ROLE
    return str(ReadKind(kind).label)
