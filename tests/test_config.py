"""Settings parsing: environment variables in, configuration out."""

from pathlib import Path

import pytest

from console.config import Config, ConfigError

BASE = Path("/srv/console")
SECRET = "s" * 50


def test_development_defaults_use_sqlite_local_redis_and_the_local_control_plane():
    config = Config.from_env({}, BASE)
    assert config.mode == "development"
    assert config.debug is True
    assert config.database["ENGINE"] == "django.db.backends.sqlite3"
    assert config.database["NAME"] == "/srv/console/db.sqlite3"
    assert config.redis_url == "redis://127.0.0.1:6379/0"
    assert config.cluster_source() == ("local", "/srv/console/.state/controlplane/kubeconfig")
    assert config.resync_seconds == 30


def test_database_url_selects_postgresql():
    config = Config.from_env({"DATABASE_URL": "postgres://app:pw@db.internal:5433/console"}, BASE)
    assert config.database["ENGINE"] == "django.db.backends.postgresql"
    assert (config.database["HOST"], config.database["PORT"], config.database["NAME"]) == (
        "db.internal",
        5433,
        "console",
    )
    assert (config.database["USER"], config.database["PASSWORD"]) == ("app", "pw")


def test_explicit_kubeconfig_wins_over_in_cluster_and_local():
    env = {"KUBECONFIG": "/etc/kube/admin.conf:/other", "KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    assert Config.from_env(env, BASE).cluster_source() == ("kubeconfig", "/etc/kube/admin.conf")


def test_in_cluster_when_running_in_a_pod_without_kubeconfig():
    assert Config.from_env({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, BASE).cluster_source() == ("in-cluster", None)


def test_production_turns_debug_off_and_needs_a_real_secret_key():
    with pytest.raises(ConfigError, match="DJANGO_SECRET_KEY"):
        Config.from_env({"CONSOLE_MODE": "production", "DJANGO_SECRET_KEY": "short"}, BASE)
    config = Config.from_env({"CONSOLE_MODE": "production", "DJANGO_SECRET_KEY": SECRET}, BASE)
    assert config.debug is False
    assert config.allowed_hosts == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONSOLE_MODE": "staging"}, "CONSOLE_MODE must be one of"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be true or false"),
        ({"CONSOLE_RESYNC_SECONDS": "soon"}, "CONSOLE_RESYNC_SECONDS must be a whole number"),
        ({"CONSOLE_RESYNC_SECONDS": "0"}, "CONSOLE_RESYNC_SECONDS must be at least 1"),
        ({"CONSOLE_HTTPS": "sometimes"}, "CONSOLE_HTTPS must be true or false"),
        ({"CONSOLE_FLAVOR_IMAGES": "traefik"}, "CONSOLE_FLAVOR_IMAGES must be a comma-separated list of key=value"),
        ({"CONSOLE_FLAVOR_IMAGES": "traefik="}, "not 'traefik='"),
        ({"CONSOLE_FLAVOR_IMAGES": "traefik=a:1,traefik=b:2"}, "CONSOLE_FLAVOR_IMAGES names 'traefik' twice"),
        ({"CONSOLE_DEFAULT_DOMAIN": "Apps.example.com"}, "CONSOLE_DEFAULT_DOMAIN is not a domain name: 'Apps'"),
        ({"CONSOLE_DEFAULT_DOMAIN": "*.example.com"}, "CONSOLE_DEFAULT_DOMAIN is not a domain name"),
        ({"CONSOLE_DEFAULT_DOMAIN": "internal"}, "CONSOLE_DEFAULT_DOMAIN must be a domain of two labels or more"),
    ],
)
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env(env, BASE)


def test_lists_are_comma_separated():
    config = Config.from_env({"DJANGO_ALLOWED_HOSTS": "console.example.com, .example.org,"}, BASE)
    assert config.allowed_hosts == ["console.example.com", ".example.org"]


def test_https_follows_the_mode_unless_told_and_flavor_images_are_pairs():
    production = {"CONSOLE_MODE": "production", "DJANGO_SECRET_KEY": SECRET}
    assert Config.from_env(production, BASE).https is True
    assert Config.from_env({**production, "CONSOLE_HTTPS": "false"}, BASE).https is False
    assert Config.from_env({}, BASE).https is False
    images = "traefik=registry.example.com/traefik:v3.6.12, nginx-inc=registry.example.com/nginx-ingress:5.5.4"
    assert Config.from_env({"CONSOLE_FLAVOR_IMAGES": images}, BASE).flavor_images == {
        "traefik": "registry.example.com/traefik:v3.6.12",
        "nginx-inc": "registry.example.com/nginx-ingress:5.5.4",
    }


def test_the_platform_domain_is_a_dns_name_without_its_final_dot():
    assert Config.from_env({"CONSOLE_DEFAULT_DOMAIN": " apps.example.com. "}, BASE).default_domain == "apps.example.com"
    assert Config.from_env({}, BASE).default_domain == ""


def test_a_flavor_image_for_a_flavor_the_console_lacks_fails_the_checks_and_a_known_one_is_rendered(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    from gateways.models import Gateway
    from gateways.render import manifests
    from tenants.models import Project, Workspace

    settings.CONSOLE_FLAVOR_IMAGES = {"nginx": "registry.example.com/nginx:1"}
    with pytest.raises(SystemCheckError, match="CONSOLE_FLAVOR_IMAGES names 'nginx', which is not a gateway flavor"):
        call_command("check")
    settings.CONSOLE_FLAVOR_IMAGES = {"traefik": "registry.example.com/traefik:v3.6.12"}
    gateway = Gateway(pk=3, project=Project(pk=5, name="shop", workspace=Workspace(name="ws")), flavor="traefik")
    deployment = next(m for m in manifests(gateway) if m["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/traefik:v3.6.12"
