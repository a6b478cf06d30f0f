from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gym.accounts"
    label = "accounts"
    verbose_name = "Gym logins"
    default_auto_field = "django.db.models.BigAutoField"
