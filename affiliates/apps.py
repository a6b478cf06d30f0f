from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AffiliatesConfig(AppConfig):
    name = "affiliates"
    verbose_name = "Affiliates"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from affiliates import checks  # noqa: F401  (registers the system checks)
        from affiliates.people.staff import groups_ensure_after_migrate
        from affiliates.routing.hosts import connect_signals

        # After auth's own post_migrate handler has created the permissions (it is registered first).
        post_migrate.connect(groups_ensure_after_migrate, dispatch_uid="affiliates.staff_groups")
        # Every save or delete of a domain or an affiliate reaches every web process's routing at once.
        connect_signals()


class CommandCenterAdminConfig(admin_apps.AdminConfig):
    """Django's admin, whose ``admin.site`` is the command center's guarded site."""

    default = False  # named in INSTALLED_APPS; AffiliatesConfig stays this module's app
    default_site = "affiliates.admin_site.CommandCenterSite"
