"""The reader's pages: the worklist and the reading view."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views import View

from annotations.ground_truth.api import (
    ReaderGroundTruthScanLabelListApi,
    ReaderGroundTruthSliceLabelListApi,
    ReaderGroundTruthVersionOutputSerializer,
)
from annotations.ground_truth.selectors import ground_truth_names_for_reader
from annotations.models import Read, ReadStatus, Role
from annotations.pages import RoleRequiredMixin
from annotations.reading.api import ReadDetailApi
from annotations.reading.selectors import (
    read_get_for_reader,
    read_get_withdrawn_for_reader,
    read_ground_truth,
    worklist_for_reader,
)


class WorklistView(RoleRequiredMixin, View):
    """The open reads to work on, and the completed ones to look back at (read-only), with the
    released ground-truth version that holds each scan."""

    roles = (Role.NEURORADIOLOGIST,)

    def get(self, request):
        reads = list(worklist_for_reader(reader=request.user))
        completed = [read for read in reads if read.status == ReadStatus.COMPLETED]
        truth = ground_truth_names_for_reader(reader=request.user) if completed else {}
        context = {
            "reads": [read for read in reads if read.status != ReadStatus.COMPLETED],
            # Each completed read with the released version holding its scan ("": none yet).
            "completed": [(read, truth.get(read.scan_id, "")) for read in completed],
        }
        return render(request, "annotations/reading/worklist.html", context)


def ground_truth_data(read: Read) -> dict | None:
    """The released ground truth of a completed read's scan, in the reader's API shapes."""
    truth = read_ground_truth(read=read)
    if truth is None:
        return None
    return {
        "version": ReaderGroundTruthVersionOutputSerializer(truth.version).data,
        "scan": ReaderGroundTruthScanLabelListApi.OutputSerializer(truth.scan).data,
        "slices": ReaderGroundTruthSliceLabelListApi.OutputSerializer(truth.slices, many=True).data,
    }


class ReadingView(RoleRequiredMixin, View):
    """The reading page: the viewer script (build/reader.js) builds it from the read inlined
    here, then saves through the API."""

    roles = (Role.NEURORADIOLOGIST,)

    def get(self, request, read_id: int):
        try:
            read = read_get_for_reader(read_id=read_id, reader=request.user)
        except Read.DoesNotExist:
            return self.withdrawn(request, read_id)
        # The read and its labels travel in the page, and the slice to show first is preloaded
        # while the viewer script loads: opening a scan costs no API round trip before the image.
        context = {
            "read": read,
            "read_data": ReadDetailApi.OutputSerializer(read).data,
            "window_presets": settings.WINDOW_PRESETS,
            "ground_truth": ground_truth_data(read),
        }
        response = render(request, "annotations/reading/read.html", context)
        add_never_cache_headers(response)  # a reload must show the labels saved since
        return response

    def withdrawn(self, request, read_id: int):
        """A read withdrawn from the reader (opened from history or a bookmark): a page that
        says so, without its labels or images."""
        try:
            read = read_get_withdrawn_for_reader(read_id=read_id, reader=request.user)
        except Read.DoesNotExist:
            raise Http404("No such read.") from None
        response = render(request, "annotations/reading/withdrawn.html", {"read": read})
        add_never_cache_headers(response)
        return response
