"""The staff role groups get their declared permissions (commerce.accounts.roles). Apps whose
models are migrated later sync again in their own migrations, and post_migrate after every
migrate."""

from django.db import migrations

from commerce.accounts import roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(roles.sync_in_migration, migrations.RunPython.noop)]
