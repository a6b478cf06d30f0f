from django.urls import path

from gym.members import login_views

app_name = "people"
urlpatterns = [
    path("", login_views.login_list, name="list"),
    path("<int:login_id>/role/", login_views.login_role, name="role"),
    path("<int:login_id>/link/", login_views.login_resend, name="resend"),
    path("<int:login_id>/remove/", login_views.login_remove_confirm, name="remove"),
]
