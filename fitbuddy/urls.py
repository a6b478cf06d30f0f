"""URLs of the command center's hosts (MANAGEMENT_HOSTS, e.g. admin.localhost): Django admin."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "FitBuddy command center"
admin.site.site_title = "FitBuddy command center"
admin.site.index_title = "Affiliates and staff"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("login/", RedirectView.as_view(url="/admin/login/", query_string=True, permanent=False)),
    path("admin/", admin.site.urls),
]
