from django.db import migrations


def create_roles(apps, schema_editor):
    from reimbursement import roles

    # Permissions are created after migrate; the post_migrate hook (apps.py) gives each group
    # its permissions then, and again whenever a later migration adds models.
    Group = apps.get_model("auth", "Group")
    for role in roles.ROLE_PERMISSIONS:
        Group.objects.get_or_create(name=role)


def remove_roles(apps, schema_editor):
    from reimbursement import roles

    apps.get_model("auth", "Group").objects.filter(name__in=list(roles.ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, remove_roles)]
