"""``manage.py import_dicom PATH... --center NAME [--split ...] [--json]``."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.ingest.services import center_get_or_create, import_batch_import_paths
from annotations.models import ImportBatch, Split


class Command(BaseCommand):
    help = (
        "Import head-CT DICOM series from files, folders or zip archives: de-identify, order "
        "slices along the slice normal and store them under a center. Reports per file."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="DICOM files, folders or zip archives")
        parser.add_argument("--center", required=True, help="the contributing center's name")
        parser.add_argument("--split", choices=Split.values, help="default: the center's split")
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object on stdout and nothing else"
        )

    def handle(self, *args, **options):
        try:
            center = center_get_or_create(name=options["center"], split=options["split"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        progress = None if options["json"] else self._progress
        _, report = import_batch_import_paths(
            paths=options["paths"],
            center=center,
            split=options["split"],
            source=ImportBatch.Source.CLI,
            on_progress=progress,
        )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        self._print(report)

    def _progress(self, done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            self.stderr.write(f"\r{done}/{total} files", ending="")
            if done == total:
                self.stderr.write("")

    def _print(self, report) -> None:
        out = self.stdout
        for entry in report.rejected:
            out.write(f"rejected     {entry['path']}: {entry['reason']}")
        for entry in report.quarantined:
            out.write(f"quarantined  {entry['path']}: {entry['reason']}")
        for warning in report.warnings:
            out.write(self.style.WARNING(f"warning      {warning}"))
        for scan in report.scans:
            findings = f" ({'; '.join(scan['findings'])})" if scan["findings"] else ""
            out.write(
                f"{scan['status']:<12} scan {scan['scan_id']}: {scan['slices']} slices{findings}"
            )
        out.write(
            self.style.SUCCESS(
                f"{report.imported_scans} scans / {report.imported_slices} slices imported, "
                f"{report.skipped_scans} scans / {report.skipped_slices} slices already present, "
                f"{len(report.rejected)} files rejected, {len(report.quarantined)} quarantined"
            )
        )
