"""A real IMAP server for tests, over TLS on 127.0.0.1: one user, one read-only folder of messages.

It speaks the part of IMAP4rev1 that `digest bounces --imap` uses (LOGIN, EXAMINE/SELECT,
UID SEARCH ALL, UID FETCH … BODY.PEEK[], LOGOUT) and records the commands it was sent.
"""

from __future__ import annotations

import socketserver
import ssl
import threading
from pathlib import Path

from smtpserver import free_port, server_tls


class ImapServer:
    """``with ImapServer(tmp_path, ("user", "secret"), [raw, …]) as server:``; trust ``server.certificate``."""

    def __init__(self, folder: Path, credentials: tuple[str, str], messages: list[bytes], mailbox: str = "INBOX"):
        self.context, self.certificate = server_tls(folder)
        self.credentials = credentials
        self.messages = messages
        self.mailbox = mailbox
        self.commands: list[str] = []
        self.port = free_port()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                outer.converse(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

            def get_request(self) -> tuple[ssl.SSLSocket, object]:
                sock, address = super().get_request()
                return outer.context.wrap_socket(sock, server_side=True), address

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ImapServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def converse(self, rfile, wfile) -> None:
        wfile.write(b"* OK [CAPABILITY IMAP4rev1] test server ready\r\n")
        logged_in = selected = False
        while line := rfile.readline():
            tag, _, rest = line.decode("utf-8").rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            self.commands.append(f"{command} {args}" if command != "LOGIN" else "LOGIN")
            if command == "CAPABILITY":
                wfile.write(b"* CAPABILITY IMAP4rev1\r\n" + f"{tag} OK done\r\n".encode())
            elif command == "LOGIN":
                user, password = (part.strip('"') for part in args.split(" ", 1))
                logged_in = (user, password) == self.credentials
                wfile.write(f"{tag} {'OK' if logged_in else 'NO'} login\r\n".encode())
            elif command in ("EXAMINE", "SELECT") and logged_in:
                selected = args.strip('"') == self.mailbox
                if selected:
                    wfile.write(f"* {len(self.messages)} EXISTS\r\n* FLAGS ()\r\n{tag} OK [READ-ONLY] done\r\n".encode())
                else:
                    wfile.write(f"{tag} NO no such mailbox\r\n".encode())
            elif command == "UID" and selected and args.upper().startswith("SEARCH"):
                uids = " ".join(str(i) for i in range(1, len(self.messages) + 1))
                wfile.write(f"* SEARCH {uids}\r\n{tag} OK done\r\n".encode())
            elif command == "UID" and selected and args.upper().startswith("FETCH"):
                uid = int(args.split()[1])
                body = self.messages[uid - 1]
                wfile.write(f"* {uid} FETCH (UID {uid} BODY[] {{{len(body)}}}\r\n".encode() + body + b")\r\n")
                wfile.write(f"{tag} OK done\r\n".encode())
            elif command == "LOGOUT":
                wfile.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                return
            else:
                wfile.write(f"{tag} BAD not here\r\n".encode())
