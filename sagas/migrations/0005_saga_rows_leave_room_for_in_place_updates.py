from django.db import migrations


class Migration(migrations.Migration):
    """A saga row is updated once per step. Pages filled to 70 % leave room for PostgreSQL
    to write the new version beside the old one (a HOT update, no index entries written)
    when no indexed column changes (sagas/engine.py keeps the lease deadline between
    steps). Applies to pages written from now on."""

    dependencies = [("sagas", "0004_staff_permissions")]

    operations = [
        migrations.RunSQL("ALTER TABLE saga_instances SET (fillfactor = 70)",
                          "ALTER TABLE saga_instances RESET (fillfactor)"),
    ]
