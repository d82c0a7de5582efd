#!/usr/bin/env python3
"""A loopback server for the --jobs cases: GET /slow?ms=N answers a small FHIR Patient after N ms.
Threaded, so requests in flight at once are served at once. Usage: slow_server.py PORT"""
import http.server, json, sys, time, urllib.parse

BODY = json.dumps({"resourceType": "Patient", "id": "1"}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        time.sleep(int(q.get("ms", ["0"])[0]) / 1000)
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
