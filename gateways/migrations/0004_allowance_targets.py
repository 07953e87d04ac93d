"""Annotation allowances name whole keys (or prefixes) and where they apply, instead of a flavor and
a key without its controller prefix."""

from django.db import migrations, models

CONTROLLER_PREFIX = {
    "nginx-inc": "nginx.org/",
    "ingress-nginx": "nginx.ingress.kubernetes.io/",
    "traefik": "traefik.ingress.kubernetes.io/",
}


def whole_keys(apps, schema_editor):
    allowance = apps.get_model("gateways", "AnnotationAllowance")
    for row in allowance.objects.all():
        row.key = CONTROLLER_PREFIX[row.flavor] + row.key
        row.save(update_fields=["key"])


def keys_without_prefix(apps, schema_editor):
    allowance = apps.get_model("gateways", "AnnotationAllowance")
    for row in allowance.objects.all():
        for flavor, prefix in CONTROLLER_PREFIX.items():
            if row.key.startswith(prefix):
                row.flavor, row.key = flavor, row.key[len(prefix) :]
                row.save(update_fields=["flavor", "key"])
                break
        else:
            row.delete()


class Migration(migrations.Migration):
    dependencies = [("gateways", "0003_ready_reason")]

    operations = [
        migrations.RemoveConstraint(model_name="annotationallowance", name="one_allowance_per_key"),
        migrations.AlterField(
            model_name="annotationallowance",
            name="key",
            field=models.CharField(
                help_text="A whole key (cert-manager.io/cluster-issuer, nginx.org/proxy-buffers) or a prefix ending "
                "in '/' (example.com/).",
                max_length=317,
            ),
        ),
        migrations.RunPython(whole_keys, keys_without_prefix),
        migrations.RemoveField(model_name="annotationallowance", name="flavor"),
        migrations.AddField(
            model_name="annotationallowance",
            name="target",
            field=models.CharField(
                choices=[("route", "Routes"), ("gateway-service", "Gateway Services")], default="route", max_length=16
            ),
        ),
        migrations.AddField(
            model_name="annotationallowance",
            name="choices",
            field=models.CharField(
                blank=True, help_text="For one-of: the values allowed, comma-separated.", max_length=1024
            ),
        ),
        migrations.AlterField(
            model_name="annotationallowance",
            name="kind",
            field=models.CharField(
                choices=[
                    ("seconds", "seconds"),
                    ("body-size", "body-size"),
                    ("boolean", "boolean"),
                    ("count", "count"),
                    ("cidr-list", "cidr-list"),
                    ("cookie-name", "cookie-name"),
                    ("service-list", "service-list"),
                    ("text", "text"),
                    ("one-of", "one-of"),
                ],
                help_text="The check values get; one-of takes the choices below.",
                max_length=16,
            ),
        ),
        migrations.AlterModelOptions(name="annotationallowance", options={"ordering": ["target", "key"]}),
        migrations.AddConstraint(
            model_name="annotationallowance",
            constraint=models.UniqueConstraint(fields=("target", "key"), name="one_allowance_per_target_key"),
        ),
    ]
