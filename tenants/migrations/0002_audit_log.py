# The membership log becomes the audit log of memberships, gateways and routes.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_membership_events(apps, schema_editor):
    """Carries the membership log over into the audit log."""
    event_model = apps.get_model("tenants", "MembershipEvent")
    entry_model = apps.get_model("tenants", "AuditEntry")
    actions = {"added": "added", "role-changed": "changed", "removed": "removed"}
    for event in event_model.objects.select_related("workspace", "project").order_by("pk"):
        workspace = event.workspace
        scope = f"{workspace.name}/{event.project.name}" if event.project else (workspace.name if workspace else "")
        entry = entry_model.objects.create(
            workspace=workspace,
            project=event.project,
            scope=scope,
            actor=event.actor,
            actor_name=event.actor_name,
            kind="membership",
            object_name=event.member_name,
            action=actions[event.action],
            before={"role": event.old_role} if event.old_role else None,
            after={"role": event.new_role} if event.new_role else None,
        )
        entry_model.objects.filter(pk=entry.pk).update(at=event.at)


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.CharField(help_text='workspace or workspace/project, as it was named then', max_length=127)),
                ('actor_name', models.CharField(max_length=150)),
                ('kind', models.CharField(choices=[('membership', 'membership'), ('gateway', 'gateway'), ('route', 'route')], max_length=16)),
                ('object_name', models.CharField(help_text="the member's username, the route's name", max_length=253)),
                ('action', models.CharField(choices=[('added', 'added'), ('changed', 'changed'), ('removed', 'removed')], max_length=16)),
                ('before', models.JSONField(blank=True, null=True)),
                ('after', models.JSONField(blank=True, null=True)),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('project', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='audit_entries', to='tenants.project')),
                ('workspace', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='audit_entries', to='tenants.workspace')),
            ],
            options={
                'verbose_name_plural': 'audit entries',
                'ordering': ['-at', '-pk'],
            },
        ),
        migrations.RunPython(copy_membership_events, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='MembershipEvent',
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['kind', 'project'], name='tenants_aud_kind_1bcb2f_idx'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['kind', 'workspace'], name='tenants_aud_kind_0b4e4e_idx'),
        ),
    ]
