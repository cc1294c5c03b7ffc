import django.db.models.deletion
from django.db import migrations, models

CHUNK = 1000  # DISPATCH["BATCH"]'s default when this migration was written


def split(apps, schema_editor):
    """Recipients not yet written of jobs in flight move to chunks, from where they stopped."""
    old = apps.get_model("messaging", "PendingRecipients")
    chunk = apps.get_model("messaging", "PendingChunk")
    for pending in old.objects.iterator(chunk_size=1):
        rest = pending.rows[pending.written :]
        chunk.objects.bulk_create(
            chunk(job_id=pending.job_id, seq=n, rows=rest[start : start + CHUNK])
            for n, start in enumerate(range(0, len(rest), CHUNK))
        )


def join(apps, schema_editor):
    old = apps.get_model("messaging", "PendingRecipients")
    chunk = apps.get_model("messaging", "PendingChunk")
    rows: dict[int, list] = {}
    for job_id, part in chunk.objects.order_by("job_id", "seq").values_list("job_id", "rows"):
        rows.setdefault(job_id, []).extend(part)
    old.objects.bulk_create(old(job_id=job_id, rows=r) for job_id, r in rows.items())


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0023_message_totals"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingChunk",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveIntegerField()),
                ("rows", models.JSONField()),
                (
                    "job",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pending_chunks",
                        to="messaging.smsjob",
                    ),
                ),
            ],
            options={
                "verbose_name": "pending recipients",
                "verbose_name_plural": "pending recipients",
            },
        ),
        migrations.AddConstraint(
            model_name="pendingchunk",
            constraint=models.UniqueConstraint(
                fields=("job", "seq"), name="pending_recipients_job_seq"
            ),
        ),
        migrations.RunPython(split, join),
        migrations.DeleteModel(name="PendingRecipients"),
    ]
