"""The customer's outbound POSTs are "webhooks"; "callbacks" stays the operator's inbound reports."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("messaging", "0011_dispatch_of_record"),
    ]

    operations = [
        migrations.RenameModel("CallbackSettings", "WebhookSettings"),
        migrations.RenameModel("CallbackDelivery", "WebhookDelivery"),
        migrations.AlterField(
            model_name="webhooksettings",
            name="account",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="webhook_settings",
                to="accounts.smsaccount",
            ),
        ),
        migrations.RenameIndex(
            model_name="webhookdelivery",
            new_name="webhook_account_idx",
            old_name="callback_account_idx",
        ),
        migrations.RenameIndex(
            model_name="webhookdelivery", new_name="webhook_due_idx", old_name="callback_due_idx"
        ),
    ]
