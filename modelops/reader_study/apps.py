from django.apps import AppConfig


class ReaderStudyConfig(AppConfig):
    """The AI-assisted multi-reader multi-case crossover study: its own app (label
    ``reader_study``), so its migrations stay apart from the rest of modelops's."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "modelops.reader_study"
    label = "reader_study"
    verbose_name = "Reader studies"
