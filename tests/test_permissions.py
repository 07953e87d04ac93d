"""The permission table as a matrix: every role x every action, on the user's own workspace and
project and on those of another workspace. The expected answers are written out here, not
derived from the code under test."""

import pytest

from tenants import permissions as perms
from tenants import services
from tenants.models import Project, Workspace

PROJECT_COLUMNS = (
    "view_project edit_project delete_project view_project_members manage_project_members "
    "view_gateway manage_gateway view_routes create_route edit_route delete_route list_services list_secrets"
).split()
# Columns in the order above.
PROJECT_TABLE = """
platform-admin              Y Y Y Y Y Y Y Y Y Y Y Y Y
workspace-admin             Y Y Y Y Y Y Y Y Y Y Y Y Y
workspace-self-provisioner  N N N N N N N N N N N N N
workspace-regular           N N N N N N N N N N N N N
workspace-viewer            Y N N Y N Y N Y N N N N N
project-admin               Y Y Y Y Y Y Y Y Y Y Y Y Y
project-operator            Y N N Y N Y N Y Y Y Y Y Y
project-viewer              Y N N Y N Y N Y N N N N N
outsider                    N N N N N N N N N N N N N
"""

WORKSPACE_COLUMNS = (
    "view_workspace edit_workspace delete_workspace view_workspace_members manage_workspace_members create_project"
).split()
WORKSPACE_TABLE = """
platform-admin              Y Y Y Y Y Y
workspace-admin             Y Y Y Y Y Y
workspace-self-provisioner  Y N N Y N Y
workspace-regular           Y N N Y N N
workspace-viewer            Y N N Y N N
project-admin               Y N N Y N N
project-operator            Y N N Y N N
project-viewer              Y N N Y N N
outsider                    N N N N N N
"""

PLATFORM_TABLE = {"platform-admin": True}  # everyone else: no
PLATFORM_ACTIONS = ["manage_users", "create_workspace"]


def parse(table: str, columns: list[str]) -> dict[tuple[str, str], bool]:
    expected = {}
    for line in table.strip().splitlines():
        role, *answers = line.split()
        assert len(answers) == len(columns), f"row {role} has {len(answers)} answers for {len(columns)} columns"
        for action, answer in zip(columns, answers, strict=True):
            expected[(role, action)] = answer == "Y"
    return expected


ROLES = [line.split()[0] for line in PROJECT_TABLE.strip().splitlines()]


@pytest.fixture
def world(make_user):
    return build_world(make_user)


def build_world(make_user, elsewhere_name: str = "elsewhere", other_name: str = "other") -> dict:
    """Workspace `home` with project `shop`, where one user holds each role, and workspace
    `elsewhere` with project `other`, where only `stranger` works."""
    root = make_user("platform-admin", platform_admin=True)
    users = {role: make_user(role) for role in ROLES if role != "platform-admin"}
    users["platform-admin"] = root
    home = services.create_workspace(name="home", admin=users["workspace-admin"], by=root)
    for role in ("workspace-self-provisioner", "workspace-regular", "workspace-viewer"):
        services.add_workspace_member(home, username=role, role=role, by=root)
    for name in ("project-admin", "project-operator", "project-viewer"):
        services.add_workspace_member(home, username=name, role=perms.WORKSPACE_REGULAR, by=root)
    shop = services.create_project(workspace=home, name="shop", by=users["project-admin"])
    services.add_project_member(shop, username="project-operator", role="operator", by=users["project-admin"])
    services.add_project_member(shop, username="project-viewer", role="viewer", by=users["project-admin"])
    stranger = make_user("stranger")
    elsewhere = services.create_workspace(name=elsewhere_name, admin=stranger, by=root)
    services.add_workspace_member(elsewhere, username="outsider", role=perms.WORKSPACE_VIEWER, by=stranger)
    other = services.create_project(workspace=elsewhere, name=other_name, by=stranger)
    # `outsider` is a viewer of workspace `elsewhere`: a member somewhere, just not in `home`.
    return {"users": users, "home": home, "shop": shop, "elsewhere": elsewhere, "other": other}


@pytest.mark.parametrize("role", ROLES)
def test_project_actions_on_own_project_follow_the_table(world, role):
    expected = parse(PROJECT_TABLE, PROJECT_COLUMNS)
    user = world["users"][role]
    answers = {action: perms.can(user, action, world["shop"]) for action in PROJECT_COLUMNS}
    assert answers == {action: expected[(role, action)] for action in PROJECT_COLUMNS}


@pytest.mark.parametrize("role", ROLES)
def test_project_actions_on_another_workspaces_project_are_refused(world, role):
    user = world["users"][role]
    answers = {action: perms.can(user, action, world["other"]) for action in PROJECT_COLUMNS}
    everything = role == "platform-admin"
    if role == "outsider":
        # The outsider is a workspace viewer of `elsewhere`, so reads `other` and nothing more.
        reads = {"view_project", "view_project_members", "view_gateway", "view_routes"}
        assert answers == {action: action in reads for action in PROJECT_COLUMNS}
    else:
        assert answers == {action: everything for action in PROJECT_COLUMNS}


@pytest.mark.parametrize("role", ROLES)
def test_workspace_actions_follow_the_table(world, role):
    expected = parse(WORKSPACE_TABLE, WORKSPACE_COLUMNS)
    user = world["users"][role]
    answers = {action: perms.can(user, action, world["home"]) for action in WORKSPACE_COLUMNS}
    assert answers == {action: expected[(role, action)] for action in WORKSPACE_COLUMNS}
    other = {action: perms.can(user, action, world["elsewhere"]) for action in WORKSPACE_COLUMNS}
    if role == "outsider":
        assert other == {action: action in ("view_workspace", "view_workspace_members") for action in WORKSPACE_COLUMNS}
    else:
        assert other == {action: role == "platform-admin" for action in WORKSPACE_COLUMNS}


@pytest.mark.parametrize("role", ROLES)
def test_platform_actions_are_for_platform_admins_only(world, role):
    user = world["users"][role]
    assert {a: perms.can(user, a) for a in PLATFORM_ACTIONS} == {
        a: PLATFORM_TABLE.get(role, False) for a in PLATFORM_ACTIONS
    }


@pytest.mark.parametrize("role", ROLES)
def test_lists_show_exactly_what_the_table_lets_the_user_view(world, role):
    user = world["users"][role]
    expected_projects = {"shop"} if parse(PROJECT_TABLE, PROJECT_COLUMNS)[(role, "view_project")] else set()
    expected_workspaces = {"home"} if parse(WORKSPACE_TABLE, WORKSPACE_COLUMNS)[(role, "view_workspace")] else set()
    if role == "platform-admin":
        expected_projects |= {"other"}
        expected_workspaces |= {"elsewhere"}
    if role == "outsider":
        expected_projects |= {"other"}
        expected_workspaces |= {"elsewhere"}
    assert set(Project.objects.visible_to(user).values_list("name", flat=True)) == expected_projects
    assert set(Workspace.objects.visible_to(user).values_list("name", flat=True)) == expected_workspaces


def test_a_disabled_user_keeps_no_access(world):
    operator = world["users"]["project-operator"]
    services.update_user(operator, is_active=False)
    assert not perms.can(operator, "view_project", world["shop"])
    assert not Project.objects.visible_to(operator).exists()


def test_unknown_actions_are_a_programming_error(world):
    with pytest.raises(KeyError):
        perms.can(world["users"]["platform-admin"], "launch_rockets", world["shop"])
