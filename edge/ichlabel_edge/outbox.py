"""Results on their way to ICHLabel: each a JSON file in the node's outbox until ICHLabel has it
(and, with ``send_series``, the scored series themselves, for ICHLabel's import).

A result is written whole (``os.replace``) before anything is sent, so a node that loses power
or its network loses none. ``deliver`` posts every waiting result; ICHLabel answers 201 (new)
or 200 (it had this key already: an earlier answer was lost), and either way the file goes. The
result's ``key`` is the idempotency key: ICHLabel records each key once, so a result is
counted once however often it is sent.
"""

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from ichlabel_edge.client import Client, ServerUnreachable

OUTBOX = "outbox"


class Outbox:
    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / OUTBOX
        self.directory.mkdir(parents=True, exist_ok=True)

    def put(self, result: dict[str, Any]) -> Path:
        """Keep ``result`` (it must carry its ``key``) until it is delivered."""
        key = str(result["key"])
        if Path(key).name != key or key.startswith("."):
            raise ValueError(f"a result key must be a plain name, not {key!r}")
        path = self.directory / f"{key}.json"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(result))
        os.replace(partial, path)
        return path

    def waiting(self) -> list[Path]:
        return sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime)

    def deliver(self, client: Client) -> dict[str, int]:
        """Send every waiting result, oldest first; stop at the first that cannot be sent."""
        delivered = 0
        for path in self.waiting():
            try:
                client.report(json.loads(path.read_text()))
            except ServerUnreachable:
                break
            path.unlink()
            delivered += 1
        return {"delivered": delivered, "waiting": len(self.waiting())}


SERIES_OUTBOX = "series-outbox"
REFUSED = "refused"


class SeriesOutbox:
    """Scored series on their way to ICHLabel's import (``send_series``): each a folder of its
    DICOM files named by the series' link, written whole (a hidden partial folder renamed)
    before anything is sent, and removed once ICHLabel has it. ICHLabel imports a link once,
    so a series sent again after a lost answer is not imported twice. A series ICHLabel refuses
    (4xx) moves to ``refused/`` with the reason beside it, and the rest go on."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / SERIES_OUTBOX
        self.directory.mkdir(parents=True, exist_ok=True)

    def put(self, link: str, datasets: Sequence[Dataset]) -> Path:
        folder = self.directory / link
        if Path(link).name != link or link.startswith("."):
            raise ValueError(f"a series link must be a plain name, not {link!r}")
        if folder.exists():
            return folder
        partial = self.directory / f".{link}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for index, dataset in enumerate(datasets):
            _with_file_meta(dataset).save_as(partial / f"{index:05d}.dcm", enforce_file_format=True)
        os.replace(partial, folder)
        return folder

    def waiting(self) -> list[Path]:
        folders = (p for p in self.directory.iterdir() if p.is_dir() and p.name[0] != ".")
        return sorted((p for p in folders if p.name != REFUSED), key=lambda p: p.stat().st_mtime)

    def deliver(self, client: Client) -> dict[str, int]:
        """Send every waiting series, oldest first; stop at the first that cannot be sent."""
        sent = refused = 0
        for folder in self.waiting():
            try:
                client.send_series(folder.name, sorted(folder.glob("*.dcm")))
            except ServerUnreachable:
                break
            except ValueError as error:  # ICHLabel refused it: keep it aside, with the reason
                target = self.directory / REFUSED / folder.name
                target.parent.mkdir(exist_ok=True)
                shutil.rmtree(target, ignore_errors=True)
                os.replace(folder, target)
                (target / "reason.txt").write_text(str(error))
                refused += 1
                continue
            shutil.rmtree(folder)
            sent += 1
        return {"sent": sent, "refused": refused, "waiting": len(self.waiting())}


def _with_file_meta(dataset: Dataset) -> Dataset:
    """The dataset with the file meta a Part 10 file needs (a PACS's answer may lack it)."""
    meta = getattr(dataset, "file_meta", None) or FileMetaDataset()
    meta.MediaStorageSOPClassUID = meta.get("MediaStorageSOPClassUID") or dataset.SOPClassUID
    meta.MediaStorageSOPInstanceUID = (
        meta.get("MediaStorageSOPInstanceUID") or dataset.SOPInstanceUID
    )
    meta.TransferSyntaxUID = meta.get("TransferSyntaxUID") or ExplicitVRLittleEndian
    dataset.file_meta = meta
    return dataset
