"""Watching the PACS over DIMSE (``pynetdicom``), for a PACS without DICOMweb: C-FIND to list and
sample series, C-GET to retrieve them, C-STORE to store the node's results.

``DimseWatcher`` returns the same series as the DICOMweb watcher (``pacs.py``), by the same rules
and record (``watching.py``). One ``new_series`` is one association (Study Root):

- a STUDY-level C-FIND for the studies dated ``since`` or later, then a SERIES-level C-FIND in
  each for the attributes the rules look at. Strictly hierarchical, so any PACS answers it (a
  SERIES-level query on StudyDate alone is an optional relational query that many refuse);
- the instance count from NumberOfSeriesRelatedInstances, or else an IMAGE-level C-FIND counts;
- an attribute the PACS does not answer for the series (ImageType, ContrastBolusAgent often) is
  read from the first answer of an IMAGE-level C-FIND asking for the same attributes.

Retrieval is C-GET, not C-MOVE: with C-GET the PACS sends the instances back on the association
the node opened, so the node listens on no port, a firewall needs no opening toward it, and the
PACS needs no route, port or host entry for it (only its AE title allowed to query and get).
C-MOVE would have the PACS open a second association to a storage SCP on the node. For C-GET the
node proposes CT Image Storage (what the runner scores) with the SCP role, in the uncompressed
transfer syntaxes, so the PACS transcodes; an instance of another kind fails its sub-operation
and the retrieval is refused as a whole.

Each association waits at most the peer's ``timeout_s`` to connect, to be accepted and for each
DIMSE answer. ``PacsUnreachable``: no connection, no answer in time, an aborted association, a
transient rejection or a PACS out of resources; ``PacsError``: a permanent rejection (a wrong AE
title, a calling AE the PACS does not know) or a refused request. Messages name the peer.
"""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from pydicom import Dataset
from pydicom.datadict import tag_for_keyword
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, Association, build_role, evt

from ichlabel_edge.config import Dimse
from ichlabel_edge.watching import PacsError, PacsUnreachable, Series, SeriesWatcher

# Study Root Query/Retrieve Information Model FIND and GET (pynetdicom's sop_class names are
# made at import time, so a type checker cannot see them).
FIND = UID("1.2.840.10008.5.1.4.1.2.2.1")
GET = UID("1.2.840.10008.5.1.4.1.2.2.3")
RETRIEVED = (CTImageStorage,)
UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
PENDING = (0xFF00, 0xFF01)
# C-STORE warnings: the object was stored (coerced, elements discarded, not validated).
STORED = (0x0000, 0xB000, 0xB006, 0xB007)


class DimseWatcher(SeriesWatcher):
    """Watches the PACS at ``peer`` over DIMSE; keeps its record under ``data_dir``
    (the options: ``SeriesWatcher``'s)."""

    def __init__(self, peer: Dimse, data_dir: Path, **options: Any) -> None:
        super().__init__(data_dir, **options)
        self.peer = peer
        self._association: Association | None = None  # held during one new_series

    def retrieve(self, series: Series) -> list[Dataset]:
        """Every instance of ``series`` (C-GET), uncompressed."""
        received: list[Dataset] = []

        def on_store(event: Any) -> int:
            dataset = event.dataset
            dataset.file_meta = event.file_meta
            received.append(dataset)
            return 0x0000

        identifier = _query(
            "SERIES",
            StudyInstanceUID=series.study_instance_uid,
            SeriesInstanceUID=series.series_instance_uid,
        )
        contexts = [(GET, UNCOMPRESSED), *((c, UNCOMPRESSED) for c in RETRIEVED)]
        roles = [build_role(uid, scp_role=True) for uid in RETRIEVED]
        handlers = [(evt.EVT_C_STORE, on_store)]
        with self._associate(contexts, roles=roles, handlers=handlers) as association:
            final = self._final(association, identifier)
        failed = int(final.get("NumberOfFailedSuboperations", 0) or 0)
        if final.Status != 0x0000 or failed:
            raise PacsError(
                f"the PACS {self.peer} sent {len(received)} of the instances of series "
                f"{series.series_instance_uid} (C-GET status 0x{final.Status:04X}, {failed} "
                "failed; only uncompressed CT Image Storage is accepted)"
            )
        return received

    def store(self, datasets: Sequence[Dataset]) -> None:
        """Write objects (the node's SR and captures) into the PACS with C-STORE."""
        classes = sorted({str(ds.SOPClassUID) for ds in datasets})
        with self._associate([(UID(c), UNCOMPRESSED) for c in classes]) as association:
            for dataset in datasets:
                started = time.monotonic()
                status = association.send_c_store(dataset)
                code = status.get("Status")
                if code is None:
                    raise PacsUnreachable(self._no_answer("C-STORE", started))
                if code not in STORED:
                    raise PacsError(
                        f"the PACS {self.peer} refused to store {dataset.SOPInstanceUID} "
                        f"(C-STORE status 0x{code:04X})"
                    )

    # Listing and sampling series (one association per new_series)

    @contextmanager
    def _polling(self) -> Iterator[None]:
        with self._associate([(FIND, UNCOMPRESSED)]) as association:
            self._association = association
            try:
                yield
            finally:
                self._association = None

    def _find_series(self, since: date, fields: list[str]) -> list[Dataset]:
        studies = self._find(_query("STUDY", StudyDate=f"{since:%Y%m%d}-", StudyInstanceUID=""))
        found = []
        for study in studies:
            uid = str(study.get("StudyInstanceUID", ""))
            if not uid:
                continue
            for series in self._find(_query("SERIES", *fields, StudyInstanceUID=uid)):
                series.StudyInstanceUID = uid  # a PACS need not repeat the unique key above
                series.StudyDate = study.get("StudyDate", "")
                found.append(series)
        return found

    def _first_instance(self, study: str, uid: str) -> Dataset | None:
        fields = sorted(self.rules.keywords() | {"ContrastBolusAgent", "SOPInstanceUID"})
        query = _query("IMAGE", *fields, StudyInstanceUID=study, SeriesInstanceUID=uid)
        instances = self._find(query)
        return instances[0] if instances else None

    def _count_instances(self, study: str, uid: str) -> int:
        query = _query("IMAGE", "SOPInstanceUID", StudyInstanceUID=study, SeriesInstanceUID=uid)
        return len(self._find(query))

    def _find(self, identifier: Dataset) -> list[Dataset]:
        """Every answer of one C-FIND on the association ``new_series`` holds."""
        if self._association is None:
            raise RuntimeError("a C-FIND outside new_series")  # a bug here, not the PACS
        answers: list[Dataset] = []
        started = time.monotonic()
        for status, answer in self._association.send_c_find(identifier, FIND):
            self._check(status, "C-FIND", started)
            started = time.monotonic()  # the timeout is per answer
            if status.Status in PENDING and answer is not None:
                answers.append(answer)
        return answers

    # Associations and statuses

    @contextmanager
    def _associate(
        self,
        contexts: list[tuple[UID, list[UID]]],
        *,
        roles: list[Any] | None = None,
        handlers: list[Any] | None = None,
    ) -> Iterator[Association]:
        """An association with the peer for ``contexts``, released after use (aborted when
        something failed on it)."""
        peer = self.peer
        ae = AE(ae_title=peer.calling_ae)
        ae.connection_timeout = ae.acse_timeout = peer.timeout_s
        ae.dimse_timeout = ae.network_timeout = peer.timeout_s
        for abstract, syntaxes in contexts:
            ae.add_requested_context(abstract, syntaxes)
        association = ae.associate(
            peer.host,
            peer.port,
            ae_title=peer.called_ae,
            ext_neg=roles or None,
            evt_handlers=handlers or None,
        )
        if not association.is_established:
            raise self._refused(association)
        try:
            yield association
        except BaseException:
            association.abort()
            raise
        if association.is_established:
            association.release()

    def _refused(self, association: Association) -> Exception:
        """Why an association was not established, as the error the agent acts on."""
        if association.is_rejected:
            answer = association.acceptor.primitive
            if answer is None:  # pynetdicom keeps the rejection there; never seen without
                return PacsError(f"the PACS {self.peer} rejected the association")
            reason = f"{answer.result_str}, {answer.source_str}: {answer.reason_str}"
            message = f"the PACS {self.peer} rejected the association of {self.peer.calling_ae}"
            # 0x01 permanent (e.g. an AE title it does not know), 0x02 transient (e.g. busy).
            kind = PacsError if answer.result == 0x01 else PacsUnreachable
            return kind(f"{message} ({reason})")
        # pynetdicom marks a refused connection aborted too: the two are not told apart.
        return PacsUnreachable(
            f"the PACS {self.peer} did not answer: no connection, or no association within "
            f"{self.peer.timeout_s:g} s (refused, timed out or aborted)"
        )

    def _final(self, association: Association, identifier: Dataset) -> Dataset:
        """The last status of a C-GET (its pending ones only count sub-operations)."""
        final, started = Dataset(), time.monotonic()
        for status, _ in association.send_c_get(identifier, GET):
            self._check(status, "C-GET", started)
            final, started = status, time.monotonic()  # the timeout is per answer
        if "Status" not in final:
            raise PacsUnreachable(self._no_answer("C-GET", started))
        return final

    def _check(self, status: Dataset, operation: str, started: float) -> None:
        code = status.get("Status")
        if code is None:  # pynetdicom's empty status: a timeout, an abort, a garbled answer
            raise PacsUnreachable(self._no_answer(operation, started))
        if code in PENDING or code in (0x0000, 0xB000):
            return
        message = f"the PACS {self.peer} refused a {operation} (status 0x{code:04X})"
        comment = status.get("ErrorComment")
        if comment:
            message += f": {comment}"
        # A7xx: out of resources, which may pass; the rest (A9xx, Cxxx, ...) will not.
        raise (PacsUnreachable if code & 0xFF00 == 0xA700 else PacsError)(message)

    def _no_answer(self, operation: str, started: float) -> str:
        """Why no status came: pynetdicom says neither, so the time it took tells a timeout
        from an association the PACS ended (Orthanc, for one, aborts rather than answer a
        request it does not allow)."""
        if time.monotonic() - started < self.peer.timeout_s:
            return (
                f"the PACS {self.peer} ended the association during a {operation} (as a PACS "
                f"may do when it does not allow {self.peer.calling_ae} this request)"
            )
        return f"the PACS {self.peer} did not answer a {operation} within {self.peer.timeout_s:g} s"


def _query(level: str, *fields: str, **values: str) -> Dataset:
    """A C-FIND/C-GET identifier: ``values`` to match, ``fields`` asked for (empty). A keyword
    that is not in the DICOM dictionary is left out (a rule on it never matches)."""
    identifier = Dataset()
    identifier.QueryRetrieveLevel = level
    for keyword in fields:
        if tag_for_keyword(keyword) is not None and keyword not in values:
            setattr(identifier, keyword, "")
    for keyword, value in values.items():
        setattr(identifier, keyword, value)
    return identifier
