"""De-identified DICOM files for the viewer (a WADO-URI style endpoint: one instance per URL,
``application/dicom``), with the same access rules as the API and HTTP caching by ETag."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from annotations import selectors
from annotations.models import Slice


class SliceFileApi(APIView):
    """The stored file of slice ``position_index`` of a scan (Cornerstone: ``wadouri:<url>``)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiResponse(description="application/dicom")})
    def get(self, request, scan_id: int, position_index: int):
        try:
            slice_ = selectors.slice_get_for_viewer(
                scan_id=scan_id, position_index=position_index, user=request.user
            )
        except Slice.DoesNotExist:
            raise Http404 from None
        etag = f'"{slice_.sha256}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponseNotModified()
        else:
            response = FileResponse(
                default_storage.open(slice_.storage_key, "rb"), content_type="application/dicom"
            )
            response["Content-Length"] = str(slice_.file_size)
        response["ETag"] = etag
        # Private: the files are per-user data; immutable: a stored slice never changes.
        patch_cache_control(response, private=True, max_age=86400, immutable=True)
        return response
