"""The three roles as Django groups, and the permissions each one holds.

Roles are data: the `0001_roles` migration creates the groups, and `sync_roles()` runs after
every `migrate` so a model added later gets its permissions in the right group.
"""

from django.contrib.auth.models import Group, Permission

REIMBURSEMENT_TEAM = "Reimbursement team"
SUPPORT_AGENTS = "Support agents"
OFFICE_STAFF = "Office staff"

# role -> (app label, actions); an empty action tuple means every permission of the app.
ROLE_PERMISSIONS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    REIMBURSEMENT_TEAM: [("codes", ()), ("django_tasks_db", ("view",))],
    SUPPORT_AGENTS: [("inquiries", ()), ("codes", ("view",))],
    OFFICE_STAFF: [("codes", ("view",))],
}

# Roles whose members use the admin; office staff only read lookups.
STAFF_ROLES = {REIMBURSEMENT_TEAM, SUPPORT_AGENTS}


def permissions_for(role: str, permission_model=Permission):
    """Return the queryset of permissions a role holds."""
    query = permission_model.objects.none()
    for app_label, actions in ROLE_PERMISSIONS[role]:
        perms = permission_model.objects.filter(content_type__app_label=app_label)
        if actions:
            from django.db.models import Q

            wanted = Q()
            for action in actions:
                wanted |= Q(codename__startswith=f"{action}_")
            perms = perms.filter(wanted)
        query = query | perms
    return query


def sync_roles(group_model=Group, permission_model=Permission) -> None:
    """Create the role groups and give each exactly the permissions of ROLE_PERMISSIONS."""
    for role in ROLE_PERMISSIONS:
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.set(permissions_for(role, permission_model))


def is_support_agent(user) -> bool:
    """Return whether the user may see inquiries (patient information)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=SUPPORT_AGENTS).exists()


def is_reimbursement_team(user) -> bool:
    """Return whether the user maintains the catalog, fee schedules and guides."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=REIMBURSEMENT_TEAM).exists()
