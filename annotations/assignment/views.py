"""The coordinator's reading-round page."""

from django.core.paginator import Paginator

from annotations.assignment.api import ASSIGNMENT_STATUSES
from annotations.assignment.second_reads import second_read_list, second_read_reason_text
from annotations.assignment.selectors import reader_workload_list, study_read_list
from annotations.assignment.uncertainty import uncertainty_model_list
from annotations.models import (
    Center,
    ReadKind,
    ReadStatus,
    Split,
)
from annotations.pages import (
    PAGE_SIZE,
    CoordinatorPage,
    query_choice,
    query_number,
    query_string,
    render_page,
)

# The newest second reads the reading page lists (all of them: GET /api/v1/second-reads/).
SECOND_READS_SHOWN = 20


class ReadingRoundView(CoordinatorPage):
    """Assign scans by filter with a dry-run preview, the readers' workload, and the study's
    reads with per-read reassign and unassign."""

    def get(self, request):
        filters = {
            "reader": query_number(request.GET.get("reader")),
            "scan": query_number(request.GET.get("scan")),
            "status": query_choice(request.GET.get("status"), ReadStatus.values),
            "kind": query_choice(request.GET.get("kind"), ReadKind.values),
        }
        reads = study_read_list(
            reader_id=filters["reader"],
            scan_id=filters["scan"],
            status=filters["status"],
            kind=filters["kind"],
        )
        workload = list(reader_workload_list())
        context = {
            "centers": Center.objects.order_by("name"),
            "splits": Split.choices,
            "assignment_statuses": [
                (value, value.replace("_", " ").capitalize()) for value in ASSIGNMENT_STATUSES
            ],
            "workload": workload,
            "readers_data": {str(reader.pk): reader.username for reader in workload},
            "read_statuses": ReadStatus.choices,
            "read_kinds": ReadKind.choices,
            "filters": filters,
            "query": query_string(filters),
            "page": Paginator(reads, PAGE_SIZE).get_page(request.GET.get("page")),
            # Models whose uncertainty may order never-read scans (active learning).
            "uncertainty_models": uncertainty_model_list(),
            "second_reads": [
                {"request": request_, "reason_text": second_read_reason_text(request_.reason)}
                for request_ in second_read_list()[:SECOND_READS_SHOWN]
            ],
        }
        return render_page(request, "annotations/coordination/reading.html", context)
