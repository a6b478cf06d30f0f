from django.apps import AppConfig


class AthletesConfig(AppConfig):
    """What an athlete sees on a phone: the published programming, their own scores, the boards, their progress."""

    name = "gym.athletes"
    label = "athletes"
