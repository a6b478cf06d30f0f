from django.urls import path

from gym.workouts import class_views, import_views, programming_views, publishing_views, views

app_name = "workouts"
urlpatterns = [
    path("exercises/", views.exercise_list, name="exercises"),
    path("exercises/new/", views.exercise_edit, name="exercise_create"),
    path("exercises/<int:exercise_id>/edit/", views.exercise_edit, name="exercise_edit"),
    path("workouts/", programming_views.workout_list, name="list"),
    path("workouts/week/", views.week, name="week"),
    path("library/", views.library, name="library"),
    path("library/<int:benchmark_id>/add/", views.library_add, name="library_add"),
    path("workouts/new/", views.workout_edit, name="create"),
    path("workouts/<int:workout_id>/", views.workout_detail, name="detail"),
    path("workouts/<int:workout_id>/edit/", views.workout_edit, name="edit"),
    path("workouts/<int:workout_id>/sheet/", views.results_sheet, name="sheet"),
    path("workouts/<int:workout_id>/delete/", views.delete_workout, name="delete"),
    path(
        "workouts/<int:workout_id>/results/<int:participation_id>/delete/",
        views.delete_result,
        name="result_delete",
    ),
    path("events/", views.events, name="events"),
    # A class's results sheet (gym/classes): the day's workout on its track, the class first.
    path("classes/<int:schedule_id>/<str:day>/sheet/", class_views.class_sheet, name="class_sheet"),
    # Past results from a CSV (another program's export): gym/workouts/import_views.py.
    path("workouts/import/", import_views.results_import_view, name="results_import"),
    # Publishing (athletes see a workout from its publish time).
    path("workouts/<int:workout_id>/publish/", publishing_views.publish, name="publish"),
    # Programming that copies: a day of parts, copies of a day or a week (programming_views).
    path("workouts/day/<str:day>/", programming_views.day, name="day"),
    path("workouts/day/<str:day>/copy/", programming_views.copy_day, name="copy_day"),
    path("workouts/week/copy/", programming_views.copy_week, name="copy_week"),
    path("workouts/<int:workout_id>/move/", programming_views.move_part, name="move_part"),
]
