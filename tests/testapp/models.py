from django.db import models


class TallyView(models.Model):
    tally_id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=100)
    total = models.IntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "test_tally_views"

    def __str__(self) -> str:
        return f"{self.name}={self.total}"
