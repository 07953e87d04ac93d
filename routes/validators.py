"""Pure checks on routes, as DESIGN.md section 3 lists them, mirroring what the Kubernetes API
server would say. Shared by the API, the wizard and Edit YAML."""

import re

from django.core.exceptions import ValidationError

from console.cluster import PREFIX
from console.validators import (
    DNS1123_LABEL,
    is_ip_address,
    is_number,
    validate_dns1123_subdomain,
    validate_label_value,
    validate_qualified_name,
)

# Routes created in one request (and one transaction), bounded like a page of the API.
MAX_BATCH = 500

MOST_BACKENDS = 3  # Services a path may split its traffic between
MOST_WEIGHT = 256
PROTOCOLS = ["http", "https", "ws", "wss", "grpc"]
TLS_PROTOCOLS = {"https", "wss", "grpc"}
PATH_TYPES = ["Prefix", "Exact"]
HOST_MODES = ["auto", "custom"]
PATH_CHARACTERS = re.compile(r"^/[A-Za-z0-9._\-/]*$")
PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def validate_route_name(name: str) -> None:
    if not name:
        raise ValidationError("Enter a name.")
    if len(name) > 63:
        raise ValidationError(f"At most 63 characters (this one has {len(name)}).")
    if not DNS1123_LABEL.fullmatch(name):
        raise ValidationError("Use lowercase letters, digits and '-', starting and ending with a letter or digit.")


def validate_host(host: str) -> None:
    if not host:
        raise ValidationError("Enter a host name.")
    if host != host.strip() or " " in host:
        raise ValidationError("A host name cannot contain spaces.")
    if ":" in host and not is_ip_address(host):
        raise ValidationError("A host name cannot carry a port; the gateway decides the port.")
    if is_ip_address(host):
        raise ValidationError("A host must be a DNS name, not an IP address.")
    if host == "*":
        raise ValidationError("'*' alone is not a host; a wildcard must be followed by a domain, as in *.example.com.")
    name = host[2:] if host.startswith("*.") else host
    if "*" in name:
        raise ValidationError("A wildcard is allowed only as a leading '*.', as in *.example.com.")
    if host != host.lower():
        raise ValidationError("A host name must be lowercase.")
    validate_dns1123_subdomain(name, "host name")


def validate_path(path: str, path_type: str) -> None:
    if path_type not in PATH_TYPES:
        raise ValidationError(f"Path type must be Prefix or Exact, not '{path_type}'.")
    if not path.startswith("/"):
        raise ValidationError("A path must start with '/'.")
    if "%2f" in path.lower():
        raise ValidationError("A path cannot contain an encoded slash (%2F).")
    if "//" in path:
        raise ValidationError("A path cannot contain '//'.")
    for segment in ("/./", "/../"):
        if segment in path:
            raise ValidationError(f"A path cannot contain '{segment}'.")
    if path.endswith("/.") or path.endswith("/.."):
        raise ValidationError("A path cannot end in '/.' or '/..'.")
    if not PATH_CHARACTERS.fullmatch(path):
        raise ValidationError("A path may hold only letters, digits, '.', '_', '-' and '/'.")


def validate_port(port) -> None:
    """A port number 1-65535, or a port name of the Service (at most 15 of a-z, 0-9 and '-',
    with a letter, no '--')."""
    if isinstance(port, bool) or port in (None, ""):
        raise ValidationError("Enter a port number or a port name.")
    if isinstance(port, int) or (isinstance(port, str) and is_number(port)):
        if not 1 <= int(port) <= 65535:
            raise ValidationError(f"A port number is from 1 to 65535, not {port}.")
        return
    if not isinstance(port, str):
        raise ValidationError("A port is a number or a name.")
    if len(port) > 15 or not PORT_NAME.fullmatch(port) or "--" in port or not re.search("[a-z]", port):
        raise ValidationError(
            f"'{port}' is not a port name: at most 15 lowercase letters, digits and '-', with a letter and no '--'."
        )


def validate_weight(weight) -> None:
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= MOST_WEIGHT:
        raise ValidationError(f"A weight is a whole number from 0 to {MOST_WEIGHT}, not '{weight}'.")


def validate_secret_name(name: str) -> None:
    if "/" in name:
        raise ValidationError("Name a secret of this project; a secret of another namespace cannot be used.")
    validate_dns1123_subdomain(name, "secret name")


def validate_labels(labels) -> None:
    if not isinstance(labels, dict):
        raise ValidationError("Labels must be key/value pairs.")
    for key, value in labels.items():
        validate_qualified_name(key)
        domain = key.split("/", 1)[0] if "/" in key else ""
        if domain == PREFIX or domain.endswith(f".{PREFIX}"):
            # The console's own labels say which objects it manages and whose they are.
            raise ValidationError(f"Label '{key}' is reserved for the console.")
        if not isinstance(value, str):
            raise ValidationError(f"The value of label '{key}' must be text.")
        validate_label_value(value)
