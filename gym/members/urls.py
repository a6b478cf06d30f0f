from django.urls import path

from gym.members import import_views, views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="create"),
    path("export.csv", views.member_export, name="export"),
    path("import/", import_views.member_import, name="import"),
    path("<int:member_id>/edit/", views.member_edit, name="edit"),
    path("<int:member_id>/active/", views.member_deactivate, name="deactivate"),
]
