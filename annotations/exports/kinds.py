"""The export kinds the API offers: how each is built, its media type and who may take it."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.http import Http404

from annotations.exports.base import ExportFilters
from annotations.exports.tables import (
    iter_reader_labels_csv,
    iter_rsna_csv,
    iter_scans_csv,
    iter_slices_csv,
)
from annotations.models import GroundTruthVersion

CSV = "text/csv; charset=utf-8"


def _iter_sr_zip(**kwargs) -> Iterator[bytes]:
    # local: the SR module imports highdicom (over a second), which the web app's start-up skips
    from annotations.exports.sr import iter_sr_zip

    return iter_sr_zip(**kwargs)


@dataclass(frozen=True)
class ExportKind:
    name: str
    content_type: str
    build: Callable[..., Iterator[bytes]]
    # Raw reader labels are unblinded: only coordinators may take them.
    coordinators_only: bool = False

    def chunks(self, *, version: GroundTruthVersion, filters: ExportFilters) -> Iterator[bytes]:
        return self.build(version=version, filters=filters)


EXPORT_KINDS: dict[str, ExportKind] = {
    kind.name: kind
    for kind in (
        ExportKind("slices.csv", CSV, iter_slices_csv),
        ExportKind("rsna.csv", CSV, iter_rsna_csv),
        ExportKind("scans.csv", CSV, iter_scans_csv),
        ExportKind("reader-labels.csv", CSV, iter_reader_labels_csv, coordinators_only=True),
        ExportKind("sr.zip", "application/zip", _iter_sr_zip),
    )
}


def export_kind_get(*, name: str) -> ExportKind:
    try:
        return EXPORT_KINDS[name]
    except KeyError:
        raise Http404(f"No export named {name!r}.") from None
