"""Demo accounts for `make run` (development only)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from reimbursement import roles

DEMO_ACCOUNTS = [
    # username, password, role (None: superuser), invented full name (replies are signed with it)
    ("office", "office-demo-pass", roles.OFFICE_STAFF, "Olivia Park"),
    ("team", "team-demo-pass", roles.REIMBURSEMENT_TEAM, "Theo Lindqvist"),
    ("agent", "agent-demo-pass", roles.SUPPORT_AGENTS, "Alex Moreno"),
    ("admin", "admin-demo-pass", None, "Ada Morgan"),
]


def create_demo_accounts() -> list[tuple[str, str, str]]:
    """Create (or reset) one account per role; return (username, password, role label) rows."""
    User = get_user_model()
    rows = []
    for username, password, role, full_name in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        user.set_password(password)
        user.first_name, _, user.last_name = full_name.partition(" ")
        user.is_superuser = role is None
        user.is_staff = role is None or role in roles.STAFF_ROLES
        user.save()
        if role:
            user.groups.set([Group.objects.get(name=role)])
        rows.append((username, password, role or "Superuser"))
    return rows
