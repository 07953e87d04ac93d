"""Creates the demo accounts and tenants once, and prints how to log in.

admin is a platform admin; workspace-demo holds project sock-shop, whose admin is
project-admin; project-regular is a workspace member not yet in sock-shop, so a new user
can walk the invite journey at once. With --workloads it also waits for sock-shop's namespace and
gives it the Services front-end and catalogue, with pods of the demo backend behind them when the
local cluster has a node.
"""

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from console import cluster
from tenants import demo, services
from tenants import permissions as perms
from tenants.models import Project, Workspace

DEMO_USERS = [("admin", True), ("project-admin", False), ("project-regular", False)]
DEMO_SERVICES = ["front-end", "catalogue"]
NAMESPACE_WAIT_SECONDS = 60


class Command(BaseCommand):
    help = "Create the demo users, workspace-demo and sock-shop if missing, and print the credentials."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password-file",
            type=Path,
            default=settings.BASE_DIR / ".state" / "demo-passwords",
            help="Where the generated demo passwords are kept (username:password per line).",
        )
        parser.add_argument(
            "--workloads",
            action="store_true",
            help="Wait for sock-shop's namespace (a worker creates it) and put the demo backends in it.",
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
        if options["workloads"]:
            self.put_workloads()

    def put_workloads(self):
        deadline = time.monotonic() + NAMESPACE_WAIT_SECONDS
        while Project.objects.get(name="sock-shop").state != "Ready":
            if time.monotonic() > deadline:
                self.stderr.write("    sock-shop's namespace is not ready (is a worker running?); no demo workloads.")
                return
            time.sleep(0.5)
        image = demo.local_images().get("DEMO_BACKEND_IMAGE")
        for name in DEMO_SERVICES:
            deployment, service = demo.backend("sock-shop", name, image or "")
            cluster.apply(service)
            if image:
                cluster.apply(deployment)
        pods = "with a pod of the demo backend each" if image else "without pods (the local cluster has no node)"
        self.stdout.write(f"    sock-shop has the Services {' and '.join(DEMO_SERVICES)}, {pods}")

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
