"""URLs of the command center's hosts (MANAGEMENT_HOSTS, e.g. admin.localhost): Django admin."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from fitbuddy.metrics_view import metrics_view

admin.site.site_header = "FitBuddy command center"
admin.site.site_title = "FitBuddy command center"
admin.site.index_title = "Affiliates and staff"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("login/", RedirectView.as_view(url="/admin/login/", query_string=True, permanent=False)),
    path("admin/", admin.site.urls),
    # Prometheus, behind METRICS_TOKEN (docs/observability.md); never on a gym's host.
    path("metrics", metrics_view, name="metrics"),
]

# An error raised before a gym request reaches its URLs (a middleware loading the gym's login) is
# answered from here: a gym role that refused its password is a 503 while the worker repairs it.
handler500 = "affiliates.routing.repair.server_error"
