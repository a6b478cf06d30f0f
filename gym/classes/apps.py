from django.apps import AppConfig


class ClassesConfig(AppConfig):
    name = "gym.classes"
    label = "classes"
    default_auto_field = "django.db.models.BigAutoField"
