"""Personal API tokens (accounts.tokens): only their SHA-256 is stored, never the token."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='What the token is for, e.g. “laptop script”.', max_length=100, verbose_name='name')),
                ('prefix', models.CharField(max_length=12, verbose_name='prefix')),
                ('key_hash', models.CharField(max_length=64, unique=True, verbose_name='SHA-256 of the token')),
                ('read_only', models.BooleanField(default=False, help_text='Can read predictions but not create or cancel them.', verbose_name='read-only')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('expires_at', models.DateTimeField(blank=True, help_text='Empty: never.', null=True, verbose_name='expires')),
                ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='last used')),
                ('last_used_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='last used from')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked')),
                ('created_by', models.ForeignKey(blank=True, help_text='Empty: made on the command line.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL, verbose_name='member')),
            ],
            options={
                'verbose_name': 'API token',
                'verbose_name_plural': 'API tokens',
                'indexes': [models.Index(fields=['user', '-created_at'], name='accounts_ap_user_id_0ad77e_idx')],
            },
        ),
    ]
