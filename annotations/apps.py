from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "annotations"
    verbose_name = "Study data and annotations"

    def ready(self) -> None:
        import pydicom.config

        from annotations import checks  # noqa: F401  (registers the settings checks)

        # Vendors write values that bend the standard (dates with dots, long strings); pydicom
        # would warn for each and quote the value, which may be PHI. The importer checks what
        # it needs itself.
        pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
