from django.apps import AppConfig


class LeaderboardsConfig(AppConfig):
    name = "gym.leaderboards"
    label = "leaderboards"
    default_auto_field = "django.db.models.BigAutoField"
