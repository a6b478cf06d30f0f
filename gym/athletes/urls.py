from django.urls import path

from gym.athletes import views

app_name = "athletes"
urlpatterns = [
    path("", views.home, name="home"),
    path("workouts/<int:workout_id>/", views.workout, name="workout"),
    path("progress/", views.my_progress, name="progress"),
    path("privacy/", views.privacy, name="privacy"),
]
