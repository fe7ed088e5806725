"""Admin: read-only views of reader studies; changes go through the API and pages."""

from django.contrib import admin

from modelops.admin import ReadOnlyAdmin
from modelops.reader_study.models import ReaderStudy, ReaderStudySession


@admin.register(ReaderStudy)
class ReaderStudyAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "case_count", "washout_days", "plan_frozen_at", "created_at")
    list_filter = ("status",)


@admin.register(ReaderStudySession)
class ReaderStudySessionAdmin(ReadOnlyAdmin):
    list_display = ("study", "reader", "sequence", "modality", "opens_at", "completed_at")
    list_filter = ("modality",)
