"""The audit trail is append-only in the database itself: a trigger refuses every UPDATE
and DELETE on `events`, whoever sends it. The one way through is commerce.eventstore.erasure
(a transaction-local setting), kept for the GDPR erasure work to come."""

from django.db import migrations

CREATE = """
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('commerce.events_erasure', true) = 'on' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'events are append-only: % on events refused (event %)', TG_OP, OLD.id
        USING HINT = 'Stored events never change; erasure goes through commerce.eventstore.erasure.';
END;
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS events_append_only ON events;
DROP FUNCTION IF EXISTS events_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
