"""Admin: read-only views of modelops rows; changes go through the API and pages."""

from django.contrib import admin

from modelops.models import DatasetSnapshot, ModelVersion, TrainingRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DatasetSnapshot)
class DatasetSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "ground_truth", "image_size", "status", "created_at")
    list_filter = ("status",)


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = ("name", "snapshot", "status", "stage", "epoch", "attempts", "created_at")
    list_filter = ("status",)


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("name", "run", "snapshot", "status", "created_at")
    list_filter = ("status",)
