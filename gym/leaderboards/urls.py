from django.urls import path

from gym.leaderboards import board_views, views

app_name = "leaderboards"
urlpatterns = [
    path("workouts/<int:workout_id>/leaderboard/", views.workout_leaderboard, name="workout"),
    path("leaderboards/overall/", views.overall, name="overall"),
    path("leaderboards/benchmarks/", board_views.benchmark_boards, name="benchmarks"),
    path("leaderboards/benchmarks/<int:benchmark_id>/", board_views.all_time, name="all_time"),
]
