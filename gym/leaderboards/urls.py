from django.urls import path

from gym.leaderboards import views

app_name = "leaderboards"
urlpatterns = [
    path("workouts/<int:workout_id>/leaderboard/", views.workout_leaderboard, name="workout"),
    path("leaderboards/overall/", views.overall, name="overall"),
]
