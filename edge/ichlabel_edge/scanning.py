"""The node's work on its PACS: every new, selected, stable series is scored by the active build,
its SR and key-slice captures are written back into the PACS, and its result goes to the outbox;
then the key slices' occlusion maps follow into the PACS (``saliency.py``).

A series is marked handled once its result is in the outbox (or once it was refused, with the
reason), so a restart never scores it twice; the result then reaches ICHLabel exactly once
(``outbox``). A result is keyed by the series' link (``annotations/dicom/link.py``): an HMAC of
its UID under the center's link key, which the node got when it enrolled. ICHLabel's import
computes the same value for the scan it makes of that series, so the prediction finds its
de-identified scan, and ICHLabel never holds an identifier of the hospital.

Timings (ms): ``stability_wait`` is how long the node saw the series' count hold still before
it took it (at least the configured wait; ``Series.waited_s``); ``transfer`` the retrieval
(WADO-RS or C-GET); ``preprocess`` and ``inference`` the runner's; ``write_back`` the storing
of the SR and captures (STOW-RS or C-STORE); ``total`` their sum: from the last instance's
arrival to the result stored back in the PACS.
"""

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydicom import Dataset

from annotations.dicom.link import series_link
from ichlabel_edge.outbox import Outbox, SeriesOutbox
from ichlabel_edge.results import comprehensive_3d_sr, key_slice_captures, saliency_captures
from ichlabel_edge.runner import Scored, SeriesRefused, score_series
from ichlabel_edge.runtime import open_session
from ichlabel_edge.saliency import Occlusion
from ichlabel_edge.slots import InstalledBuild, NodeError
from ichlabel_edge.watching import PacsError, PacsUnreachable, Series, SeriesWatcher

LINK_KEY = "link_key"  # in the data folder: the center's link key (hex), written at enrolment
LOOKBACK_DAYS = 2


class Scanner:
    """``series_outbox``: where scored series wait for ICHLabel's import (None: they stay in
    the hospital)."""

    def __init__(
        self,
        watcher: SeriesWatcher,
        outbox: Outbox,
        data_dir: Path,
        series_outbox: SeriesOutbox | None = None,
    ) -> None:
        self.watcher = watcher
        self.outbox = outbox
        self.series_outbox = series_outbox
        self.link_key = read_link_key(data_dir)
        self._sessions: dict[int, Any] = {}  # build number -> onnxruntime session
        self._occlusions: dict[int, Occlusion | None] = {}
        # Scored series whose maps are still to be made: (key, datasets, scored, build).
        self._unmapped: list[tuple[str, list[Dataset], Scored, InstalledBuild]] = []

    def round(self, build: InstalledBuild | None) -> list[dict[str, Any]]:
        """Score every series that is ready; what happened to each, JSON-ready."""
        if build is None:
            return []  # nothing may serve: the series wait in the PACS for a build
        since = date.today() - timedelta(days=LOOKBACK_DAYS)
        return [self._score(series, build) for series in self.watcher.new_series(since)]

    def _score(self, series: Series, build: InstalledBuild) -> dict[str, Any]:
        link = series_link(self.link_key, series.series_instance_uid)
        key = f"{link}-b{build.number}"
        timings = {"stability_wait": series.waited_s * 1000}
        started = time.perf_counter()
        datasets = self.watcher.retrieve(series)
        timings["transfer"] = _ms(started)
        try:
            scored = score_series(datasets, build, session=self._session(build))
        except SeriesRefused as error:
            self.outbox.put(_refusal(key, link, build, str(error)))
            self.watcher.mark_handled(series, f"refused: {error}")
            return {"series": key, "refused": str(error)}
        written = time.perf_counter()
        objects = [
            comprehensive_3d_sr(datasets, scored, build.manifest),
            *key_slice_captures(datasets, scored, build.manifest),
        ]
        self.watcher.store(objects)
        timings["write_back"] = _ms(written)
        for stage in ("preprocess", "inference"):
            timings[stage] = scored.timings_ms.get(stage, 0.0)
        timings["total"] = sum(timings.values())
        self.outbox.put(
            {
                "key": key,
                "series": link,
                "build": build.number,
                "scored_at": datetime.now(UTC).isoformat(),
                "scores": scored.scan_scores,
                "decision": scored.decision,
                "slice_scores": [[s.scores[c] for c in scored.classes] for s in scored.slices],
                "thresholds": scored.thresholds,
                "timings_ms": {k: round(v, 1) for k, v in timings.items()},
            }
        )
        if self.series_outbox is not None:
            self.series_outbox.put(link, datasets)
        self.watcher.mark_handled(series, "scored")
        if scored.positive:
            self._unmapped.append((key, datasets, scored, build))
        return {"series": key, "decision": scored.decision, "stored": len(objects)}

    def maps(self) -> list[dict[str, Any]]:
        """The occlusion maps of the series scored since the last call, into the PACS. The
        agent asks for them once the round's results are delivered, so they never delay a
        result; a failure loses only a series' maps (the reason is in the output), as does a
        node stopped before it made them."""
        unmapped, self._unmapped = self._unmapped, []
        return [
            {"series": key, **self._saliency(datasets, scored, build)}
            for key, datasets, scored, build in unmapped
        ]

    def _saliency(
        self, datasets: list[Dataset], scored: Scored, build: InstalledBuild
    ) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            occlusion = self._occlusion(build)
            if occlusion is None:
                return {"stored": 0, "reason": f"build {build.number} has no parts for maps"}
            captures = saliency_captures(datasets, scored, occlusion.maps(scored), build.manifest)
            self.watcher.store(captures)
        except (PacsUnreachable, PacsError, RuntimeError, ValueError) as error:
            return {"stored": 0, "error": str(error)[:500]}
        return {"stored": len(captures), "ms": round(_ms(started), 1)}

    def _session(self, build: InstalledBuild) -> Any:
        if build.number not in self._sessions:
            model = build.directory / build.manifest["runtime"]["file"]
            self._sessions = {build.number: open_session(model)}  # one build at a time
        return self._sessions[build.number]

    def _occlusion(self, build: InstalledBuild) -> Occlusion | None:
        if build.number not in self._occlusions:
            self._occlusions = {build.number: Occlusion.of(build)}  # one build at a time
        return self._occlusions[build.number]


def _refusal(key: str, link: str, build: InstalledBuild, reason: str) -> dict[str, Any]:
    return {
        "key": key,
        "series": link,
        "build": build.number,
        "scored_at": datetime.now(UTC).isoformat(),
        "error": reason[:2000],
    }


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def read_link_key(data_dir: Path) -> bytes:
    """The center's link key, kept by ``enrol``."""
    path = data_dir / LINK_KEY
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        raise NodeError(f"no link key at {path}: enrol the node (again)") from None
    except (OSError, ValueError) as error:
        raise NodeError(f"the link key at {path} cannot be read: {error}") from error
