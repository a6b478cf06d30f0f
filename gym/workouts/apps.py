from django.apps import AppConfig


class WorkoutsConfig(AppConfig):
    name = "gym.workouts"
    label = "workouts"
    default_auto_field = "django.db.models.BigAutoField"
