"""Where a webhook may point (no SSRF through the admin page), checked twice.

Once when the admin saves the URL (its host resolved then), and again on
every delivery, on the address the socket actually connected to: a name
that resolved to a LAN address on Monday and to 169.254.169.254 on Tuesday
(DNS rebinding) is refused at the moment of the POST, not only at creation.

Refused: anything but http(s); credentials in the URL; unspecified addresses
(0.0.0.0, ::); link-local and cloud metadata (169.254.0.0/16, fe80::/10);
multicast and broadcast; and Giliran's own API, the address and port it binds
(MPP_BIND; with 0.0.0.0 any address of this machine on that port). A receiver
on another port of this machine (a gateway adapter beside the server) or
elsewhere on the LAN is allowed.
"""

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit


class Refused(ValueError):
    """This URL or address may not receive webhooks; the message says why."""


def parse_bind(bind):
    """'0.0.0.0:8000' / '[::1]:8001' / ':8000' -> (ip or None for every address, port)."""
    text = (bind or "0.0.0.0:8000").strip()
    if text.startswith("unix:"):
        return None, None
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    try:
        port = int(port)
    except ValueError:
        host, port = text.strip("[]"), 8000
    if host in ("", "*", "0.0.0.0", "::"):
        return None, port
    if host == "localhost":
        host = "127.0.0.1"
    try:
        return ipaddress.ip_address(host), port
    except ValueError:
        return None, port


@lru_cache(maxsize=256)
def is_local(ip_text):
    """Whether an address belongs to this machine (it can be bound to)."""
    ip = ipaddress.ip_address(ip_text)
    if ip.is_loopback:
        return True
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((ip_text, 0))
        return True
    except OSError:
        return False


def _plain(ip):
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def check_address(ip, port, own):
    """Raise Refused if (ip, port) may not receive a webhook; `own` is parse_bind()'s answer."""
    ip = _plain(ipaddress.ip_address(ip))
    if ip.is_unspecified:
        raise Refused(f"{ip} is not an address a receiver can have.")
    if ip.is_link_local:
        raise Refused(f"{ip} is link-local (169.254.0.0/16, fe80::/10: cloud metadata); refused.")
    if ip.is_multicast or ip == ipaddress.ip_address("255.255.255.255"):
        raise Refused(f"{ip} is not a single receiver's address.")
    own_ip, own_port = own
    if own_port is not None and port == own_port:
        if own_ip is None:
            itself = is_local(str(ip))
        else:
            own_ip = _plain(own_ip)
            itself = ip == own_ip or (own_ip.is_loopback and ip.is_loopback)
        if itself:
            raise Refused(f"{ip}:{port} is Giliran's own API; a webhook cannot call it.")


def check_url(url, own, resolve=True):
    """The URL's (host, port) if a webhook may point there; raises Refused otherwise.

    With `resolve`, every address the host resolves to now is checked too.
    """
    if not isinstance(url, str) or not url or len(url) > 2000:
        raise Refused("A URL of at most 2000 characters is needed.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("This is not a valid URL.")
    if parts.scheme not in ("http", "https"):
        raise Refused("Only http:// and https:// URLs can receive webhooks.")
    host = parts.hostname
    if not host:
        raise Refused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise Refused("Put no user name or password in the URL; it is shown on the admin page.")
    if port == 0:
        raise Refused("This is not a valid URL: port 0.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal, port, own)
        return host, port
    if not resolve:
        return host, port
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise Refused("The host of this URL cannot be resolved from this server.")
    for info in infos:
        check_address(info[4][0], port, own)
    return host, port
