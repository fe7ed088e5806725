"""What every PACS watcher does, whatever it speaks (DICOMweb in ``pacs.py``, DIMSE in
``dimse.py``): which of the series a PACS lists to score, once they are complete, and the record
of those already handled.

``SeriesWatcher.new_series(since)`` takes the series the PACS lists for studies dated ``since``
or later (the subclass asks, in its protocol, for the attributes the rules look at) and returns
those that

1. meet the series selection rules (``selection.py``: MONAI Deploy's JSON format); an attribute
   the PACS does not answer for the series (ImageType often) is read from one instance, which
   the subclass fetches once per series;
2. name no contrast agent (``selection.contrast_given``), unless the watcher is told otherwise;
3. are stable: their instance count has not changed for ``stable_s`` seconds, as seen by this
   watcher's own polls (a series seen once is never stable yet; a restart waits anew);
4. are not handled yet: ``mark_handled`` records a series in ``<data_dir>/pacs/handled.json``
   (replaced whole, synced), so a restarted agent does not score it again.

The rules are applied to each series on its own (the SDK's ``all_matched``): a PACS never says
that a study is complete. Handled series are forgotten after ``keep_days``, and ``since`` is
raised to the day after that horizon, so a forgotten series (handled on or after its StudyDate)
is never asked for again.

Errors say whether to retry: ``PacsUnreachable`` (no answer, a timeout, an overloaded PACS) may
pass; ``PacsError`` (a refused request or association) will not by itself.
"""

import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydicom import Dataset

from ichlabel_edge.selection import Rules, SeriesAttributes, contrast_given, default_rules
from ichlabel_edge.slots import NodeError

HANDLED = Path("pacs") / "handled.json"
# What the watcher itself needs of each series, besides what the rules look at.
FIELDS = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "StudyDate",
    "Modality",
    "SeriesDescription",
    "SeriesNumber",
    "NumberOfSeriesRelatedInstances",
    "ContrastBolusAgent",
)


class PacsUnreachable(Exception):
    """No usable answer from the PACS; trying again later may succeed."""


class PacsError(Exception):
    """The PACS refused the request; trying again will not help by itself."""


@dataclass(frozen=True)
class Series:
    """A series to score: selected by the rule named ``selection``, with ``instances`` images;
    ``waited_s``: how long this watcher saw its count hold still before it returned it (at
    least ``stable_s``; the time from the last instance's arrival to the first poll that
    counted it is not known to a watcher, and is at most one poll's interval more)."""

    study_instance_uid: str
    series_instance_uid: str
    selection: str
    series_description: str
    instances: int
    waited_s: float = 0.0


@dataclass
class _Seen:
    instances: int
    since: float  # the watcher's clock when it first saw this many instances
    selection: str | None  # None: not for the model (decided once per series)


class SeriesWatcher(ABC):
    """Watches one PACS; keeps its record under ``data_dir``. A subclass says how to list the
    series, count and sample their instances, retrieve and store."""

    def __init__(
        self,
        data_dir: Path,
        *,
        rules: Rules | None = None,
        stable_s: float = 60.0,
        exclude_contrast: bool = True,
        keep_days: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules = rules or default_rules()
        self.stable_s = stable_s
        self.exclude_contrast = exclude_contrast
        if keep_days < 1:
            raise ValueError("keep_days must be 1 or more")
        self.keep_days = keep_days
        self.clock = clock
        self.record = Path(data_dir) / HANDLED
        self._seen: dict[str, _Seen] = {}
        self._handled = self._read_record()

    # What a subclass does in its protocol

    @abstractmethod
    def retrieve(self, series: Series) -> list[Dataset]:
        """Every instance of ``series``, uncompressed."""

    @abstractmethod
    def store(self, datasets: Sequence[Dataset]) -> None:
        """Write objects (the node's SR and captures) into the PACS."""

    @abstractmethod
    def _find_series(self, since: date, fields: list[str]) -> list[Dataset]:
        """The series of studies dated ``since`` or later, with ``fields`` where the PACS
        answers them (StudyInstanceUID and SeriesInstanceUID always)."""

    @abstractmethod
    def _first_instance(self, study: str, uid: str) -> Dataset | None:
        """One instance's attributes (those the rules look at), or None for an empty series."""

    @abstractmethod
    def _count_instances(self, study: str, uid: str) -> int:
        """How many instances the series has (for a PACS that does not say it per series)."""

    @contextmanager
    def _polling(self) -> Iterator[None]:
        """Around one ``new_series``: a subclass may hold one connection for all its asks."""
        yield

    # The watch

    def new_series(self, since: date) -> list[Series]:
        """Series of studies dated ``since`` or later (a study without StudyDate is not found)
        that meet the rules, are stable and are not handled yet, in the order the PACS lists
        them. Instances that arrive after a series was handled are not looked at."""
        since = max(since, date.today() - timedelta(days=self.keep_days - 1))
        fields = sorted(set(FIELDS) | self.rules.keywords())
        with self._polling():
            found = self._find_series(since, fields)
            now = self.clock()
            ready = [s for s in (self._consider(values, now) for values in found) if s]
        listed = {str(values.get("SeriesInstanceUID", "")) for values in found}
        self._seen = {uid: seen for uid, seen in self._seen.items() if uid in listed}
        return ready

    def _consider(self, values: Dataset, now: float) -> Series | None:
        """The series if it is ready now; counts its instances and, the first time it is seen,
        decides whether it is for the model."""
        uid = str(values.get("SeriesInstanceUID", ""))
        study = str(values.get("StudyInstanceUID", ""))
        if not uid or not study or uid in self._handled:
            return None
        instances = self._count(values, study, uid)
        seen = self._seen.get(uid)
        if seen is None:
            seen = _Seen(instances, now, self._select(values, study, uid, instances))
            self._seen[uid] = seen
        elif seen.instances != instances:
            seen.instances, seen.since = instances, now
        if seen.selection is None or now - seen.since < self.stable_s:
            return None
        description = str(values.get("SeriesDescription", "") or "")
        return Series(study, uid, seen.selection, description, instances, now - seen.since)

    def mark_handled(self, series: Series, outcome: str) -> None:
        """Records ``series`` as handled (``outcome``: e.g. "scored", or why it failed), so
        ``new_series`` never returns it again, after a restart too."""
        now = datetime.now(UTC)
        horizon = now - timedelta(days=self.keep_days)
        self._handled = {
            uid: entry
            for uid, entry in self._handled.items()
            if datetime.fromisoformat(entry["handled_at"]) >= horizon
        }
        self._handled[series.series_instance_uid] = {
            "study_instance_uid": series.study_instance_uid,
            "selection": series.selection,
            "outcome": outcome,
            "handled_at": now.isoformat(),
        }
        self._write_record()
        self._seen.pop(series.series_instance_uid, None)

    def handled(self) -> dict[str, dict[str, str]]:
        """Series instance UID -> what the record says of it."""
        return dict(self._handled)

    # The rules

    def _select(self, values: Dataset, study: str, uid: str, instances: int) -> str | None:
        series = SeriesAttributes(
            values, lambda: self._first_instance(study, uid), instances=instances
        )
        selection = self.rules.match(series)
        if selection is not None and self.exclude_contrast and contrast_given(series):
            return None
        return selection

    def _count(self, values: Dataset, study: str, uid: str) -> int:
        count = values.get("NumberOfSeriesRelatedInstances")
        if count not in (None, ""):
            return int(count)
        return self._count_instances(study, uid)

    # The record of handled series

    def _read_record(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.record.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise NodeError(f"the record of handled series {self.record}: {error}") from error
        series = data.get("series") if isinstance(data, dict) else None
        if not isinstance(series, dict):
            raise NodeError(f"the record of handled series {self.record} has no series")
        for uid, entry in series.items():
            try:
                datetime.fromisoformat(entry["handled_at"])
            except (TypeError, KeyError, ValueError) as error:
                raise NodeError(f"{self.record}: series {uid} has no valid handled_at") from error
        return series

    def _write_record(self) -> None:
        partial = self.record.with_name(self.record.name + ".partial")
        try:
            self.record.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "w") as handle:
                json.dump({"series": self._handled}, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, self.record)
            directory = os.open(self.record.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as error:
            raise NodeError(f"cannot write {self.record}: {error}") from error
