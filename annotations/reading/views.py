"""The reader's pages: the worklist and the reading view."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views import View

from annotations.models import Read, Role
from annotations.pages import RoleRequiredMixin
from annotations.reading.api import ReadDetailApi
from annotations.reading.selectors import read_get_for_reader, worklist_for_reader


class WorklistView(RoleRequiredMixin, View):
    roles = (Role.NEURORADIOLOGIST,)

    def get(self, request):
        reads = worklist_for_reader(reader=request.user)
        return render(request, "annotations/reading/worklist.html", {"reads": reads})


class ReadingView(RoleRequiredMixin, View):
    """The reading page: the viewer script (build/reader.js) builds it from the read inlined
    here, then saves through the API."""

    roles = (Role.NEURORADIOLOGIST,)

    def get(self, request, read_id: int):
        try:
            read = read_get_for_reader(read_id=read_id, reader=request.user)
        except Read.DoesNotExist:
            raise Http404("No such read.") from None
        # The read and its labels travel in the page, and the slice to show first is preloaded
        # while the viewer script loads: opening a scan costs no API round trip before the image.
        context = {
            "read": read,
            "read_data": ReadDetailApi.OutputSerializer(read).data,
            "window_presets": settings.WINDOW_PRESETS,
        }
        response = render(request, "annotations/reading/read.html", context)
        add_never_cache_headers(response)  # a reload must show the labels saved since
        return response
