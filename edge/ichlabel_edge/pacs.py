"""Watching the PACS over DICOMweb (``dicomweb-client``): QIDO-RS to list and sample series,
WADO-RS to retrieve them, STOW-RS to store the node's results.

``PacsWatcher.new_series(since)`` asks the PACS (QIDO-RS, ``/series``) for the series of studies
dated ``since`` or later, with the attributes the rules look at; what it returns (selected,
without contrast, stable, not handled yet) and the record of handled series are the same for
every protocol (``watching.py``). An attribute the PACS does not answer for the series is read
from one instance's metadata (QIDO-RS for its UID, then WADO-RS metadata). ``retrieve`` fetches
a series' instances (WADO-RS) as pydicom datasets, uncompressed (Explicit VR Little Endian, the
PACS transcodes).

Errors say whether to retry: ``PacsUnreachable`` (no answer, a timeout, 5xx) may pass;
``PacsError`` (a 4xx: a wrong URL, a refused request) will not by itself.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import requests
from dicomweb_client import DICOMwebClient
from pydicom import Dataset

from ichlabel_edge.watching import PacsError, PacsUnreachable, Series, SeriesWatcher

# Importers of this module find the watcher's common names here too.
__all__ = ["PacsError", "PacsUnreachable", "PacsWatcher", "Series", "dicomweb_client"]


class PacsWatcher(SeriesWatcher):
    """Watches the PACS that ``client`` talks to; keeps its record under ``data_dir``
    (the options: ``SeriesWatcher``'s)."""

    def __init__(self, client: DICOMwebClient, data_dir: Path, **options: Any) -> None:
        super().__init__(data_dir, **options)
        self.client = client

    def retrieve(self, series: Series) -> list[Dataset]:
        """Every instance of ``series``, uncompressed."""
        with _calling(self.client.base_url):
            return self.client.retrieve_series(
                series.study_instance_uid, series.series_instance_uid
            )

    def store(self, datasets: Sequence[Dataset]) -> None:
        """Write objects (the node's SR and captures) into the PACS over STOW-RS."""
        with _calling(self.client.base_url):
            self.client.store_instances(list(datasets))

    def _find_series(self, since: date, fields: list[str]) -> list[Dataset]:
        with _calling(self.client.base_url):
            found = self.client.search_for_series(
                search_filters={"StudyDate": f"{since:%Y%m%d}-"}, fields=fields, get_remaining=True
            )
        return [_dataset(answer) for answer in found]

    def _first_instance(self, study: str, uid: str) -> Dataset | None:
        with _calling(self.client.base_url):
            found = self.client.search_for_instances(study, uid, limit=1)
            if not found:
                return None
            sop = str(_dataset(found[0]).get("SOPInstanceUID", ""))
            return _dataset(self.client.retrieve_instance_metadata(study, uid, sop))

    def _count_instances(self, study: str, uid: str) -> int:
        with _calling(self.client.base_url):  # a PACS that does not count: list the instances
            return len(self.client.search_for_instances(study, uid, get_remaining=True))


def dicomweb_client(url: str, *, timeout_s: float = 30.0, attempts: int = 3) -> DICOMwebClient:
    """A DICOMweb client for the PACS at ``url`` (its root, e.g. ``.../dicom-web``). A request
    is tried ``attempts`` times, 1 s and 2 s apart (dicomweb-client's default, 5 attempts up to
    16 s apart, would hold a round for half a minute); the agent's next round tries again."""
    client = DICOMwebClient(url.rstrip("/"), timeout=timeout_s)
    client.set_http_retry_params(max_attempts=attempts, wait_exponential_multiplier=500)
    return client


def _dataset(answer: dict[str, Any]) -> Dataset:
    """A DICOM JSON object as a Dataset, without bulk data (not needed, and not fetched)."""
    plain = {
        tag: element
        for tag, element in answer.items()
        if "BulkDataURI" not in element and "InlineBinary" not in element
    }
    return Dataset.from_json(plain)


@contextmanager
def _calling(url: str) -> Iterator[None]:
    try:
        yield
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else 0
        message = f"the PACS at {url} answered {status}: {error}"
        raise (PacsUnreachable if status >= 500 else PacsError)(message) from error
    except requests.RequestException as error:
        raise PacsUnreachable(f"the PACS at {url} did not answer: {error}") from error
