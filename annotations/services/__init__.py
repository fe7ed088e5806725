"""Writes of the annotations app. Each service is ``<entity>_<action>`` with keyword arguments."""

from annotations.services.import_batches import (
    import_batch_cancel,
    import_batch_create,
    import_batch_fail_stale,
    import_batch_files_add,
    import_batch_import_paths,
    import_batch_run,
    import_batch_start,
)
from annotations.services.quarantine import (
    quarantined_series_discard,
    quarantined_series_release,
)
from annotations.services.scans import center_get_or_create, center_split_set, scan_import

__all__ = [
    "center_get_or_create",
    "center_split_set",
    "import_batch_cancel",
    "import_batch_create",
    "import_batch_fail_stale",
    "import_batch_files_add",
    "import_batch_import_paths",
    "import_batch_run",
    "import_batch_start",
    "quarantined_series_discard",
    "quarantined_series_release",
    "scan_import",
]
