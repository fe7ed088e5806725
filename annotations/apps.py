from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "annotations"
    verbose_name = "Study data and annotations"

    def ready(self) -> None:
        from annotations import checks  # noqa: F401  (registers the settings checks)
        from ichlabel.converters import register

        register()  # the ``id`` path converter, before any URL conf is loaded

        # pydicom's reading validation is set where DICOM files are read (the importer, the
        # snapshot build): importing pydicom here would cost every process most of a second.
