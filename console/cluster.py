"""The console's one client for the Kubernetes API.

Builds the API client from settings (an explicit kubeconfig, the in-cluster service
account, or the local control plane's kubeconfig), applies manifests with server-side
apply under one field manager, deletes what carries the console's ownership labels,
and turns API failures into the typed errors below. No other module imports
`kubernetes`.
"""

import copy
import hashlib
import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote

import msgspec
import urllib3
from django.conf import settings
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

log = logging.getLogger(__name__)

# Every label and annotation the console writes lives under this prefix.
PREFIX = "kubeconsole.io"
FIELD_MANAGER = "kube-console"
MANAGED_BY = f"{PREFIX}/managed-by"
OWNER = f"{PREFIX}/owner"


def label_key(name: str) -> str:
    """The console's label or annotation key for `name`."""
    return f"{PREFIX}/{name}"


def ownership_labels(owner: str) -> dict[str, str]:
    """Labels that mark an object as created by the console for `owner` ("project-7", "gateway-3"):
    short, so they always fit a label value."""
    return {MANAGED_BY: FIELD_MANAGER, OWNER: owner}


def is_managed(obj: dict | None) -> bool:
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY) == FIELD_MANAGER


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        return f"{base}/{quote(name, safe='')}" if name else base


# The kinds the console reads or writes. Known up front, so no discovery round trips.
KINDS = {
    (kind.api_version, kind.kind): kind
    for kind in [
        Kind("v1", "Namespace", "namespaces", False),
        Kind("v1", "Node", "nodes", False),
        Kind("v1", "Service", "services", True),
        Kind("v1", "Secret", "secrets", True),
        Kind("v1", "ConfigMap", "configmaps", True),
        Kind("v1", "ServiceAccount", "serviceaccounts", True),
        Kind("v1", "Event", "events", True),
        Kind("v1", "Pod", "pods", True),  # read only: a gateway controller's rollout
        Kind("apps/v1", "Deployment", "deployments", True),
        Kind("networking.k8s.io/v1", "Ingress", "ingresses", True),
        Kind("networking.k8s.io/v1", "IngressClass", "ingressclasses", False),
        Kind("rbac.authorization.k8s.io/v1", "Role", "roles", True),
        Kind("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
        Kind("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
        Kind("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
        Kind("traefik.io/v1alpha1", "IngressRoute", "ingressroutes", True),
        Kind("gateway.networking.k8s.io/v1", "GatewayClass", "gatewayclasses", False),
        Kind("gateway.networking.k8s.io/v1", "Gateway", "gateways", True),
        Kind("gateway.networking.k8s.io/v1", "HTTPRoute", "httproutes", True),
        Kind("gateway.networking.k8s.io/v1", "GRPCRoute", "grpcroutes", True),
        Kind("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False),
    ]
}


def kind_of(api_version: str, kind: str) -> Kind:
    try:
        return KINDS[(api_version, kind)]
    except KeyError:
        raise ValueError(f"the console does not manage {kind} ({api_version})") from None


class ClusterError(Exception):
    """The cluster refused or could not answer a request. `message` is the API server's own words."""

    retryable = False

    def __init__(self, message: str, status: int | None = None, reason: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


class ClusterUnavailable(ClusterError):
    """The API server could not be reached or answered with a server-side failure; worth retrying."""

    retryable = True


class NotFound(ClusterError):
    pass


class Conflict(ClusterError):
    retryable = True


class Invalid(ClusterError):
    """The API server rejected the object as invalid (HTTP 422 or 400)."""


class Forbidden(ClusterError):
    """The console's credentials may not do this (HTTP 401 or 403)."""


def error_from_api_exception(error: ApiException) -> ClusterError:
    message, reason = error.reason or "", ""
    try:
        body = json.loads(error.body or "")
        message, reason = body.get("message") or message, body.get("reason") or ""
    except (TypeError, ValueError):
        pass
    status = error.status or 0
    if status == 404:
        kind = NotFound
    elif status == 409:
        kind = Conflict
    elif status in (400, 422):
        kind = Invalid
    elif status in (401, 403):
        kind = Forbidden
    else:
        kind = ClusterUnavailable
    return kind(message or f"HTTP {status}", status=status, reason=reason)


_local = threading.local()
_configuration: tuple | None = None  # (pid, source, Configuration): read once per process


def configuration() -> k8s_client.Configuration:
    """The cluster's configuration for this process, from settings. Reading a kubeconfig parses
    YAML and writes its certificates to files: once per process, not once per thread."""
    global _configuration
    source, path = settings.CLUSTER_SOURCE
    if _configuration is not None and _configuration[:2] == (os.getpid(), (source, path)):
        return _configuration[2]
    loaded = k8s_client.Configuration()
    try:
        if source == "in-cluster":
            k8s_config.load_incluster_config(client_configuration=loaded)
        else:
            k8s_config.load_kube_config(config_file=path, client_configuration=loaded)
    except (ConfigException, OSError) as error:
        hint = " (start the local control plane with scripts/start)" if source == "local" else ""
        where = path or "the in-cluster service account"
        raise ClusterUnavailable(f"No cluster credentials at {where}{hint}: {error}") from None
    loaded.retries = 1
    _configuration = (os.getpid(), (source, path), loaded)
    return loaded


def api_client() -> k8s_client.ApiClient:
    """The API client for this process and thread, built from settings on first use."""
    key = (os.getpid(), settings.CLUSTER_SOURCE)
    cached = getattr(_local, "client", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    client = k8s_client.ApiClient(copy.deepcopy(configuration()))  # a thread's own: a token refresh writes it
    _local.client = (key, client)
    return client


def reset_client() -> None:
    """Forget the configuration and this thread's client, e.g. after the kubeconfig changed."""
    global _configuration
    _configuration = None
    _local.client = None


# Requests this process made, by verb and resource ("LIST ingresses", "PATCH ingresses"; a list's
# later pages are "PAGE ingresses"); the benchmarks read it to show what a periodic pass costs.
REQUESTS: Counter = Counter()
_PLURALS = {kind.plural for kind in KINDS.values()}


def _tally(method: str, path: str, query: list) -> None:
    segments = path.split("?", 1)[0].rstrip("/").split("/")
    if segments[-1] in _PLURALS and method == "GET":
        verb = "PAGE" if any(name == "continue" for name, _ in query) else "LIST"
        REQUESTS[f"{verb} {segments[-1]}"] += 1
    elif segments[-1] in _PLURALS:
        REQUESTS[f"{method} {segments[-1]}"] += 1
    else:
        REQUESTS[f"{method} {segments[-2] if len(segments) > 1 else path}"] += 1


def request(
    method: str, path: str, body=None, query: list | None = None, content_type: str | None = None, raw: bool = False
):
    """One call to the API server; returns the decoded JSON body (its bytes when `raw`) or raises a
    ClusterError."""
    _tally(method, path, query or [])
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    try:
        response = api_client().call_api(
            path,
            method,
            query_params=query or [],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _return_http_data_only=True,
            _request_timeout=settings.CLUSTER_TIMEOUT_SECONDS,
        )
    except ApiException as error:
        raise error_from_api_exception(error) from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise ClusterUnavailable(f"The Kubernetes API server is unreachable: {error}") from None
    data = response.data
    if raw:
        return data
    return json.loads(data) if data else None


def apply(manifest: dict, dry_run: bool = False) -> dict:
    """Server-side apply of one manifest under the console's field manager; returns the live object
    (with `dry_run`, what it would be: validated and admitted, not stored)."""
    kind = kind_of(manifest["apiVersion"], manifest["kind"])
    metadata = manifest["metadata"]
    path = kind.path(metadata.get("namespace"), metadata["name"])
    query = [("fieldManager", FIELD_MANAGER), ("force", "true")] + ([("dryRun", "All")] if dry_run else [])
    return request("PATCH", path, body=manifest, query=query, content_type="application/apply-patch+yaml")


def apply_replacing(manifest: dict) -> dict:
    """Applies a manifest; when the API server refuses because an immutable field changed (an
    IngressClass's controller, a Deployment's selector), deletes the object and creates it anew."""
    try:
        return apply(manifest)
    except Invalid as error:
        if "immutable" not in error.message:
            raise
    metadata = manifest["metadata"]
    log.info("replacing %s %s: an immutable field changed", manifest["kind"], metadata["name"])
    delete(manifest["apiVersion"], manifest["kind"], metadata["name"], metadata.get("namespace"))
    return apply(manifest)


# Metadata the cluster's own controllers write on objects the console applies: neither drift nor
# someone else's addition.
CLUSTER_WRITTEN = {"deployment.kubernetes.io/revision"}
KEYED_CONTENT = ("data", "binaryData")  # a ConfigMap's: no metadata.generation tells of changes


def owned_content(obj: dict) -> dict[str, dict]:
    """What the console sets key by key on an object, beside its spec: labels, annotations and a
    ConfigMap's data, without what the cluster writes itself."""
    metadata = obj.get("metadata") or {}
    parts = {"labels": metadata.get("labels") or {}, "annotations": metadata.get("annotations") or {}}
    for part in KEYED_CONTENT:
        parts[part] = obj.get(part) or {}
    for part, values in parts.items():
        if not CLUSTER_WRITTEN.isdisjoint(values):  # rare: copied only then
            parts[part] = {k: v for k, v in values.items() if k not in CLUSTER_WRITTEN}
    return parts


def fingerprint(obj: dict) -> str:
    """A digest of owned_content: what drift checks compare besides uid and metadata.generation, which
    the API server moves only for spec changes."""
    return hashlib.sha256(json.dumps(owned_content(obj), sort_keys=True).encode()).hexdigest()[:16]


class Seen(NamedTuple):
    """What drift is told by: an object's uid (replaced or not), metadata.generation (moved by spec
    changes) and fingerprint (labels, annotations: changes that do not move the generation). All a
    periodic pass keeps of a live object it compares."""

    uid: str
    generation: int
    fingerprint: str


def seen(obj: dict) -> Seen:
    metadata = obj["metadata"]
    return Seen(metadata.get("uid", ""), metadata.get("generation", 0), fingerprint(obj))


def applied_record(obj: dict) -> dict:
    """What the periodic pass compares a live object with: its identity and what it was Seen as."""
    metadata = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": metadata["name"],
        "namespace": metadata.get("namespace", ""),
        **seen(obj)._asdict(),
    }


def drifted(live: Seen | None, recorded: dict) -> bool:
    """Whether a live object is no longer what an apply recorded: gone, replaced, its spec changed
    or its labels or annotations changed."""
    return live is None or live != (recorded["uid"], recorded["generation"], recorded.get("fingerprint"))


def merge_patch(live: dict, wanted: dict) -> dict:
    """The JSON merge patch (RFC 7386) that makes `live` equal `wanted`: keys only `live` has are
    removed, lists are replaced whole."""
    patch: dict = {key: None for key in live if key not in wanted}
    for key, value in wanted.items():
        if isinstance(value, dict) and isinstance(live.get(key), dict):
            nested = merge_patch(live[key], value)
            if nested:
                patch[key] = nested
        elif live.get(key) != value:
            patch[key] = value
    return patch


def apply_owned(manifest: dict, *, replace_immutable: bool = False, exact_spec: bool = False) -> dict:
    """Applies an object the console owns outright, then removes what others added to it, which
    server-side apply leaves alone (it changes only fields its own manager set): labels, annotations
    and ConfigMap keys, and with `exact_spec` anything else in the spec (for kinds whose spec the
    API server does not fill in, such as an Ingress). Returns the live object."""
    live = apply_replacing(manifest) if replace_immutable else apply(manifest)
    wanted, present = owned_content(manifest), owned_content(live)
    changes = {part: merge_patch(present[part], wanted[part]) for part in present}
    patch = {part: changes[part] for part in KEYED_CONTENT if changes[part]}
    metadata = {part: changes[part] for part in ("labels", "annotations") if changes[part]}
    if metadata:
        patch["metadata"] = metadata
    if exact_spec and "spec" in manifest and (spec := merge_patch(live.get("spec") or {}, manifest["spec"])):
        patch["spec"] = spec
    if not patch:
        return live
    name, namespace = manifest["metadata"]["name"], manifest["metadata"].get("namespace")
    log.info("removing what others added to %s %s: %s", manifest["kind"], name, patch)
    path = kind_of(manifest["apiVersion"], manifest["kind"]).path(namespace, name)
    query = [("fieldManager", FIELD_MANAGER)]
    return request("PATCH", path, body=patch, query=query, content_type="application/merge-patch+json")


def get(api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
    """The live object, or None when it does not exist."""
    try:
        return request("GET", kind_of(api_version, kind).path(namespace, name))
    except NotFound:
        return None


def list_objects(
    api_version: str,
    kind: str,
    namespace: str | None = None,
    selector: str = "",
    cached: bool = False,
    fields: str = "",
) -> list[dict]:
    """The objects of a kind (matching a label `selector` and a field selector `fields`). `cached`
    lets the API server answer from its watch cache right away (resourceVersion=0) instead of first
    catching up with etcd, which can take tens of milliseconds: for reads that may be a moment old,
    such as the periodic pass, which looks again."""
    query = [("labelSelector", selector)] if selector else []
    query += [("fieldSelector", fields)] if fields else []
    if cached:
        query.append(("resourceVersion", "0"))
    answer = request("GET", kind_of(api_version, kind).path(namespace), query=query)
    return answer.get("items", [])


LIST_PAGE = 2000  # objects per page of a cluster-wide pass's list


class _Metadata(msgspec.Struct):
    name: str
    namespace: str = ""
    uid: str = ""
    generation: int = 0
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    deletionTimestamp: str = ""  # noqa: N815 - the API's name


class _Object(msgspec.Struct):
    metadata: _Metadata
    status: dict = {}
    data: dict = {}
    binaryData: dict = {}  # noqa: N815 - the API's name


class _ObjectWithSpec(_Object):
    spec: dict = {}


class _ListMetadata(msgspec.Struct):
    next_page: str = msgspec.field(default="", name="continue")


def _page_decoder(item_type) -> msgspec.json.Decoder:
    class Page(msgspec.Struct):
        items: list[item_type]
        metadata: _ListMetadata

    return msgspec.json.Decoder(Page)


_PAGE_DECODERS = {False: _page_decoder(_Object), True: _page_decoder(_ObjectWithSpec)}


_served: dict[str, tuple[float, frozenset[str] | None]] = {}
SERVED_RECHECK_SECONDS = 10


def served_resources(group_version: str, fresh: bool = False) -> frozenset[str] | None:
    """The resources (plural names) the API server serves in an API group version, a CRD's say, or
    None when it serves no such group version. The answer is kept for 10 seconds; callers about to
    rely on it ask afresh."""
    now = time.monotonic()
    checked_at, served = _served.get(group_version, (0.0, None))
    if fresh or now - checked_at > SERVED_RECHECK_SECONDS:
        try:
            found = request("GET", f"/apis/{group_version}") or {}
            served = frozenset(resource["name"] for resource in found.get("resources", []))
        except NotFound:
            served = None
        _served[group_version] = (now, served)
    return served


def serves(group_version: str, fresh: bool = False) -> bool:
    """Whether the API server serves an API group version (a CRD's, say)."""
    return served_resources(group_version, fresh) is not None


def each_object(api_version: str, kind: str, selector: str = "", with_spec: bool = False) -> Iterator[dict]:
    """Every object of a kind in the cluster, read a page at a time with continue tokens, each cut
    down to what the periodic passes read: apiVersion, metadata (name, namespace, uid, generation,
    labels, annotations, deletionTimestamp), status, a ConfigMap's data and, when asked, spec. Neither the list nor the
    fields left out (managedFields above all) are held, so the memory of a pass does not grow with
    the cluster, and decoding only what is kept takes a fraction of the time of the whole JSON. The
    next page is read while this one is handed out."""
    path = kind_of(api_version, kind).path(None)
    query = [("limit", str(LIST_PAGE))] + ([("labelSelector", selector)] if selector else [])
    decoder = _PAGE_DECODERS[with_spec]

    def read(token: str):
        return decoder.decode(request("GET", path, query=query + ([("continue", token)] if token else []), raw=True))

    page = read("")
    while True:
        following = threads("page", 1).submit(read, page.metadata.next_page) if page.metadata.next_page else None
        for item in page.items:
            yield {
                "apiVersion": api_version,
                **msgspec.structs.asdict(item),
                "metadata": msgspec.structs.asdict(item.metadata),
            }
        if following is None:
            return
        page = following.result()


_pools: dict[tuple[int, str], ThreadPoolExecutor] = {}


def threads(name: str, size: int) -> ThreadPoolExecutor:
    """This process's pool of `size` threads for `name`'s work; the threads keep their API
    connections open between uses. One per process id: a pool made before a fork has no threads in
    the child."""
    key = (os.getpid(), name)
    if key not in _pools:
        _pools[key] = ThreadPoolExecutor(size, thread_name_prefix=name)
    return _pools[key]


def delete(api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
    """Deletes one object; False when it was already gone."""
    body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
    try:
        request("DELETE", kind_of(api_version, kind).path(namespace, name), body=body)
    except NotFound:
        return False
    return True


def object_key(obj: dict) -> tuple[str, str, str, str]:
    metadata = obj["metadata"]
    return obj["apiVersion"], obj["kind"], metadata.get("namespace") or "", metadata["name"]


def delete_unwanted(owner: str, kinds: list[tuple[str, str]], wanted: list[dict], namespace: str | None = None):
    """Deletes the objects of `kinds` labelled as owned by `owner` that are not in `wanted`.

    Only objects carrying the console's ownership labels are ever listed, so nothing the
    console did not create can be deleted here. Returns the keys of what was deleted.
    """
    wanted_keys = {object_key(obj) for obj in wanted}
    selector = f"{MANAGED_BY}={FIELD_MANAGER},{OWNER}={owner}"
    deleted = []
    for api_version, kind in kinds:
        for live in list_objects(api_version, kind, namespace, selector):
            live.setdefault("apiVersion", api_version)
            live.setdefault("kind", kind)
            key = object_key(live)
            if key not in wanted_keys and delete(api_version, kind, key[3], key[2] or None):
                deleted.append(key)
    return deleted
