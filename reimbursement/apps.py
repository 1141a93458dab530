from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from reimbursement import roles

    roles.sync_roles()


class ReimbursementConfig(AppConfig):
    name = "reimbursement"
    verbose_name = "Reimbursement Desk"

    def ready(self):
        # Permissions of models added after the roles migration land in their groups here.
        post_migrate.connect(_sync_roles, dispatch_uid="reimbursement.sync_roles")
