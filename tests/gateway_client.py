"""A client for requests through a gateway, as a user's would arrive: to the node address and
port, with the route's host in the Host header and as the TLS server name."""

import http.client
import json
import socket
import ssl
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    body: bytes
    certificate: bytes = b""  # the one the gateway presented, DER
    headers: dict = field(default_factory=dict)  # the response's, by lower-case name

    @property
    def json(self) -> dict:
        return json.loads(self.body)


def ask(
    address: str,
    port: int,
    host: str,
    path: str = "/",
    tls: bool = False,
    headers: dict | None = None,
    body: bytes | None = None,
    timeout: float = 5,
) -> Answer:
    """GET `path` (POST `body` when given) from the gateway at address:port as a client of `host`
    would (Host header, and the TLS server name, and any further `headers`), trusting any
    certificate: the test looks at which one it was given."""
    sock = socket.create_connection((address, port), timeout=timeout)
    certificate = b""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        sock = context.wrap_socket(sock, server_hostname=host)
        certificate = sock.getpeercert(binary_form=True)
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    connection.sock = sock
    connection.request("GET" if body is None else "POST", path, body=body, headers={"Host": host, **(headers or {})})
    response = connection.getresponse()
    answer = Answer(
        response.status, response.read(), certificate, {name.lower(): value for name, value in response.getheaders()}
    )
    connection.close()
    return answer


def served(address: str, port: int, host: str, path: str = "/", tls: bool = False) -> Answer | None:
    """The backend's answer once the controller serves the route (None until then)."""
    try:
        answer = ask(address, port, host, path, tls)
    except OSError:
        return None
    return answer if answer.status == 200 else None
