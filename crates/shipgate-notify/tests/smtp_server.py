#!/usr/bin/env python3
"""A real SMTP server for tests/email.rs: aiosmtpd on 127.0.0.1, on a port the system picks.

It requires STARTTLS (`--tls starttls`, the default), speaks TLS from the start
(`--tls implicit`) or offers no TLS at all (`--tls none`), with the certificate and key of
--cert and --key; and it requires a login (--user, --password), only over TLS. Its first line on stdout is the port;
then one JSON line for each mail it takes (the envelope, the login, the raw mail and its
decoded text and HTML parts) and for each failed login. It runs until stdin closes.
"""

import argparse
import email
import email.policy
import json
import socket
import ssl
import sys

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:
    print("aiosmtpd is missing: pip install aiosmtpd", file=sys.stderr)
    sys.exit(3)


def encrypted(server):
    return server.transport is not None and server.transport.get_extra_info("ssl_object") is not None


def emit(record):
    print(json.dumps(record), flush=True)


class BoundController(Controller):
    """A Controller on a socket bound before it starts: the port is known, nothing races."""

    def __init__(self, handler, sock, **kwargs):
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kwargs)
        self._sock = sock

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in parsed.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_type()] = part.get_content()
        emit(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "login": session.login_data.decode() if session.login_data else None,
                "tls": encrypted(server),
                "content_type": parsed.get_content_type(),
                "subject": str(parsed["Subject"]),
                "from": str(parsed["From"]),
                "to": str(parsed["To"]),
                "event": str(parsed["X-Shipgate-Event"]),
                "text": parts.get("text/plain"),
                "html": parts.get("text/html"),
                "raw": raw.decode("utf-8", "replace"),
            }
        )
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--tls", choices=["starttls", "implicit", "none"], default="starttls")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == args.user
            and auth_data.password.decode() == args.password
        )
        if not ok:
            emit({"auth_failed": mechanism, "tls": encrypted(server)})
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    tls = None
    if args.tls != "none":
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    starttls = args.tls == "starttls"
    controller = BoundController(
        Handler(),
        sock,
        ssl_context=tls if args.tls == "implicit" else None,
        server_hostname="localhost",
        tls_context=tls if starttls else None,
        require_starttls=starttls,
        # With TLS from the start there is no STARTTLS for aiosmtpd to wait for.
        auth_require_tls=starttls,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    print(sock.getsockname()[1], flush=True)
    # The test holds stdin open while it needs the server; closing it (or dying) stops it.
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
