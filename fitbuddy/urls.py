from django.contrib import admin
from django.urls import path

admin.site.site_header = "FitBuddy command center"
admin.site.site_title = "FitBuddy command center"

urlpatterns = [
    path("admin/", admin.site.urls),
]
