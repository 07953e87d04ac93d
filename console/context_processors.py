"""What every page's shell needs to know. The apps decide it: each registers what it adds when it
loads (its AppConfig.ready), so that the shell imports no app."""

from collections.abc import Callable

NAVIGATION: list[Callable] = []  # request -> {name: value} for the top bar


def add_navigation(function: Callable) -> None:
    NAVIGATION.append(function)


def navigation(request) -> dict:
    """Which entries of the top bar the signed-in user may open."""
    shown: dict = {}
    for function in NAVIGATION:
        shown.update(function(request))
    return shown
