"""The demo's workloads: Deployments of the demo backend (scripts/images/cmd/demo-backend, built here
and run by the local node) behind Services, as a tenant of sock-shop would have them. The console
does not manage workloads; the demo data and the tests put these in the cluster for its routes."""

from django.conf import settings

# Service port -> (container port, what answers there).
BACKEND_PORTS = {
    "http": (80, 8080),
    "https": (443, 8443),
    "grpc": (9090, 9090),
    "grpcs": (9443, 9443),
}


def local_images(cluster_dir=None) -> dict[str, str]:
    """The images the local node imported (scripts/node/start.sh writes them down), or {} when the
    local cluster has no node."""
    path = (cluster_dir or settings.CONFIG.local_cluster_dir) / "node" / "images.env"
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def backend(namespace: str, name: str, image: str, replicas: int = 1) -> list[dict]:
    """A Deployment of the demo backend that answers as `name`, and the Service `name` in front of it."""
    labels = {"app": name}
    container = {
        "name": "demo-backend",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "env": [
            {"name": "SERVICE_NAME", "value": name},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "ports": [{"name": port, "containerPort": target} for port, (_, target) in BACKEND_PORTS.items()],
        "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 2},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": labels,
            "ports": [
                {"name": port, "port": number, "targetPort": port, "protocol": "TCP"}
                for port, (number, _) in BACKEND_PORTS.items()
            ],
        },
    }
    return [deployment, service]
