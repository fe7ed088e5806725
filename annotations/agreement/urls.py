"""URLs of annotations.agreement: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from annotations.agreement.api import AgreementApi

urlpatterns = []

api_urlpatterns = [
    # Reader agreement (coordinators): JSON for the dashboard, the table as CSV
    path("agreement/", AgreementApi.as_view(), name="agreement"),
    path("agreement.csv", AgreementApi.as_view(), {"format": "csv"}, name="agreement-csv"),
]
