from django.urls import path

from gym.leaderboards import whiteboard_views

app_name = "whiteboard"
urlpatterns = [
    path("whiteboard/links/", whiteboard_views.link_list, name="links"),
    # Opened without a login: the token is the key (fitbuddy/error_reports.py keeps it out of logs).
    path("tv/<str:token>/", whiteboard_views.tv, name="tv"),
    path("tv/<str:token>/board/", whiteboard_views.tv_board, name="tv_board"),
]
