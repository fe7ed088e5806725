"""The coordinator's adjudication page."""

from django.core.paginator import Paginator

from annotations.adjudication.selectors import adjudication_decision_text, adjudication_item_list
from annotations.models import (
    SUBTYPES,
    AdjudicationReason,
    AdjudicationStatus,
    Center,
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


class AdjudicationView(CoordinatorPage):
    """The adjudication queue with its filters, the actions that fill it, and the item view
    (votes and decision form) that the page script opens for the chosen row."""

    def get(self, request):
        # Open items first: the queue is a to-do list; "all" shows every status.
        status = request.GET.get("status", AdjudicationStatus.OPEN)
        filters = {
            "status": status if status in (*AdjudicationStatus.values, "all") else "open",
            "reason": query_choice(request.GET.get("reason"), AdjudicationReason.values),
            # One scan's items (the reading page links a second read's open items here).
            "scan": query_number(request.GET.get("scan")),
        }
        items = adjudication_item_list(
            status=None if filters["status"] == "all" else filters["status"],
            reason=filters["reason"],
            scan_id=filters["scan"],
        )
        page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
        for item in page.object_list:
            item.decision_text = adjudication_decision_text(item=item)
        context = {
            "filters": filters,
            "query": query_string(filters),
            "statuses": AdjudicationStatus.choices,
            "reasons": AdjudicationReason.choices,
            "open_count": adjudication_item_list(status=AdjudicationStatus.OPEN).count(),
            "centers": Center.objects.order_by("name"),
            "splits": Split.choices,
            "subtypes": SUBTYPES,
            "page": page,
        }
        return render_page(request, "annotations/coordination/adjudication.html", context)
