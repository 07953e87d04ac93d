"""Pure: how host names cover one another. A wildcard `*.shop.example.com` covers its whole
subdomain (api.shop.example.com, a.b.shop.example.com, *.b.shop.example.com), not the apex
shop.example.com, as OpenShift's wildcard routes hold it."""


def name_of(host: str) -> str:
    """The host without a leading wildcard."""
    return host[2:] if host.startswith("*.") else host


def is_under(name: str, domain: str) -> bool:
    """Whether `name` is `domain` or a name below it."""
    return name == domain or name.endswith(f".{domain}")


def suffixes(name: str) -> list[str]:
    """`name` and every domain above it: a.b.c, b.c, c."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def wildcards_over(host: str) -> list[str]:
    """Every wildcard that covers `host` (an exact host or a wildcard), nearest first."""
    return [f"*.{domain}" for domain in suffixes(name_of(host))[1:]]


def overlap(one: str, other: str) -> bool:
    """Whether two hosts can be asked for by the same request: equal, or one a wildcard covering
    the other."""
    if one == other:
        return True
    first, second = name_of(one), name_of(other)
    if one.startswith("*.") and second != first and is_under(second, first):
        return True
    return other.startswith("*.") and first != second and is_under(first, second)
