"""Creates the demo accounts and tenants once, and prints how to log in.

admin is a platform admin; workspace-demo holds project sock-shop, whose admin is
project-admin; project-regular is a workspace member not yet in sock-shop, so a new user
can walk the invite journey at once.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants import permissions as perms
from tenants import services
from tenants.models import Project, Workspace

DEMO_USERS = [("admin", True), ("project-admin", False), ("project-regular", False)]


class Command(BaseCommand):
    help = "Create the demo users, workspace-demo and sock-shop if missing, and print the credentials."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password-file",
            type=Path,
            default=settings.BASE_DIR / ".state" / "demo-passwords",
            help="Where the generated demo passwords are kept (username:password per line).",
        )

    def handle(self, *args, **options):
        password_file = options["password_file"]
        password_file.parent.mkdir(parents=True, exist_ok=True)
        lines = password_file.read_text().splitlines() if password_file.exists() else []
        passwords = dict(line.split(":", 1) for line in lines if ":" in line)
        with transaction.atomic():
            users = {name: self.ensure_user(name, admin, passwords) for name, admin in DEMO_USERS}
            self.ensure_tenants(users)
        password_file.write_text("".join(f"{user}:{password}\n" for user, password in passwords.items()))
        password_file.chmod(0o600)
        for user, password in passwords.items():
            self.stdout.write(f"    log in as {user} / {password}")

    def ensure_user(self, username, platform_admin, passwords):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            passwords[username] = secrets.token_urlsafe(12)
            user = services.create_user(
                username=username,
                email=f"{username}@example.com",
                password=passwords[username],
                platform_admin=platform_admin,
            )
        return user

    def ensure_tenants(self, users):
        admin = users["admin"]
        workspace = Workspace.objects.filter(name="workspace-demo").first()
        if workspace is None:
            workspace = services.create_workspace(
                name="workspace-demo", alias="Demo", description="The demo workspace.", admin=admin, by=admin
            )
            services.add_workspace_member(workspace, username="project-admin", role=perms.WORKSPACE_REGULAR, by=admin)
            services.add_workspace_member(workspace, username="project-regular", role=perms.WORKSPACE_REGULAR, by=admin)
        if not Project.objects.filter(name="sock-shop").exists():
            services.create_project(
                workspace=workspace,
                name="sock-shop",
                alias="Sock Shop",
                description="The SockShop demo of the KubeSphere blog.",
                by=users["project-admin"],
            )
