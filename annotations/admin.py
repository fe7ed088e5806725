"""Admin: read-mostly views of the study data; actions call services."""

from django import forms
from django.contrib import admin, messages

from annotations.ingest.services import (
    center_split_set,
    quarantined_series_discard,
    quarantined_series_release,
)
from annotations.ingest.split_change import center_split_change
from annotations.models import (
    AdjudicationItem,
    Center,
    GroundTruthVersion,
    ImportBatch,
    LabelAudit,
    Patient,
    QuarantinedSeries,
    Read,
    Scan,
    ScanLabel,
    Slice,
    SliceLabel,
)
from annotations.vocabulary import LABEL_FIELDS
from ichlabel.errors import DomainError


class ReadOnlyAdmin(admin.ModelAdmin):
    """Imported data is written by the importer only: the admin shows it, never edits it."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class CenterForm(forms.ModelForm):
    class Meta:
        model = Center
        fields = ["name", "split"]

    def clean_split(self) -> str:
        """A move that would break a running reading round is refused here with its reasons,
        as on the study page (``annotations.ingest.split_change``)."""
        split = self.cleaned_data["split"]
        if self.instance.pk is not None and split != self.instance.split:
            saved = Center.objects.get(pk=self.instance.pk)
            change = center_split_change(center=saved, split=split)
            if change.refused:
                raise forms.ValidationError(change.refusals)
        return split


@admin.register(Center)
class CenterAdmin(admin.ModelAdmin):
    form = CenterForm
    list_display = ["name", "split", "created_at"]
    list_filter = ["split"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        if change and "split" in form.changed_data:
            center_split_set(center=obj, split=obj.split, by=request.user)
        super().save_model(request, obj, form, change)


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ["pseudonym", "created_at"]
    search_fields = ["pseudonym"]


class SliceInline(admin.TabularInline):
    model = Slice
    fields = [
        "position_index",
        "z_position_mm",
        "instance_number",
        "slice_thickness_mm",
        "sop_instance_uid",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["position_index"]


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "center",
        "split",
        "patient",
        "series_description",
        "slice_count",
        "flags",
    ]
    list_filter = ["split", "center"]
    search_fields = ["series_instance_uid", "study_instance_uid", "patient__pseudonym"]
    list_select_related = ["center", "patient"]
    inlines = [SliceInline]


@admin.register(Slice)
class SliceAdmin(ReadOnlyAdmin):
    list_display = ["id", "scan", "position_index", "z_position_mm", "sop_instance_uid"]
    search_fields = ["sop_instance_uid"]
    list_select_related = ["scan__center"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "center",
        "split",
        "source",
        "status",
        "files_done",
        "files_total",
        "message",
    ]
    list_filter = ["status", "source", "center"]
    list_select_related = ["center"]


@admin.register(QuarantinedSeries)
class QuarantinedSeriesAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "center",
        "split",
        "reason",
        "file_count",
        "status",
        "reviewed_by",
    ]
    list_filter = ["status", "center"]
    list_select_related = ["center", "reviewed_by"]
    actions = ["release", "discard"]

    @admin.action(description="Release: reviewed, import these series")
    def release(self, request, queryset):
        for item in queryset:
            try:
                report = quarantined_series_release(item=item, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{item}: {exc.message}", messages.WARNING)
                continue
            self.message_user(
                request,
                f"{item}: {report.imported_scans} scans / {report.imported_slices} slices "
                f"imported, {len(report.rejected)} files rejected",
            )

    @admin.action(description="Discard: delete the held files")
    def discard(self, request, queryset):
        for item in queryset:
            try:
                quarantined_series_discard(item=item, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{item}: {exc.message}", messages.WARNING)


@admin.register(Read)
class ReadAdmin(ReadOnlyAdmin):
    list_display = ["id", "scan", "reader", "status", "assigned_at", "finished_at", "time_spent_s"]
    list_filter = ["status", "reader"]
    list_select_related = ["scan__center", "reader"]


@admin.register(SliceLabel)
class SliceLabelAdmin(ReadOnlyAdmin):
    list_display = ["id", "read", "slice", *LABEL_FIELDS, "version"]
    list_select_related = ["read", "slice"]


@admin.register(LabelAudit)
class LabelAuditAdmin(ReadOnlyAdmin):
    list_display = ["id", "read", "slice", "actor", "at", "version", "before", "after"]
    list_select_related = ["read", "slice", "actor"]


@admin.register(ScanLabel)
class ScanLabelAdmin(ReadOnlyAdmin):
    list_display = ["id", "read", *LABEL_FIELDS, "version"]
    list_select_related = ["read"]


@admin.register(AdjudicationItem)
class AdjudicationItemAdmin(ReadOnlyAdmin):
    """Decisions are taken through the adjudication API, which records who and why."""

    list_display = ["id", "scan", "slice", "label", "reason", "status", "decided_by", "decided_at"]
    list_filter = ["status", "reason", "label"]
    list_select_related = ["scan__center", "slice", "decided_by"]


@admin.register(GroundTruthVersion)
class GroundTruthVersionAdmin(ReadOnlyAdmin):
    """Frozen: shown, never changed or deleted."""

    list_display = [
        "id",
        "name",
        "created_by",
        "created_at",
        "scan_count",
        "slice_count",
        "pending_scan_count",
        "released_at",
        "content_sha256",
    ]
    list_select_related = ["created_by"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
