from django.apps import AppConfig


class ModelopsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "modelops"
    verbose_name = "Model operations"
