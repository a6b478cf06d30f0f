from django.urls import path

from gym.classes import athlete_views, views

app_name = "classes"
urlpatterns = [
    path("classes/", views.schedule, name="schedule"),
    path("classes/new/", views.schedule_edit, name="create"),
    path("classes/<int:schedule_id>/edit/", views.schedule_edit, name="edit"),
    path("classes/holidays/", views.holidays, name="holidays"),
    path("classes/rules/", views.booking_rules, name="rules"),
    path("classes/<int:schedule_id>/<str:day>/", views.occurrence, name="occurrence"),
    path("classes/<int:schedule_id>/<str:day>/act/", views.occurrence_act, name="act"),
    path("me/classes/", athlete_views.my_classes, name="mine"),
    path("me/classes/<int:schedule_id>/<str:day>/", athlete_views.my_class_act, name="mine_act"),
]
