#!/usr/bin/env python3
"""Writes the 100 MB searchset (the harness's 5 MB bundle's entries, 20 times: 100,000 entries) and
the collections that read it. Usage: gen_big.py WORK_DIR"""
import json, os, sys
work = sys.argv[1]
big = os.path.join(work, "data", "bundle-100mb.json")
if not os.path.exists(big):
    b = json.load(open(os.path.join(work, "data", "bundle.json")))
    b["entry"] = b["entry"] * 20
    b["total"] = len(b["entry"])
    with open(big, "w") as fh:
        json.dump(b, fh, separators=(",", ":"))
doc = {"name": "bench big100 (100 MB searchset, 100,000 entries)", "base_url": "{{base_url}}/fhir",
       "variables": {"base_url": "http://127.0.0.1:18080"},
       "auth": {"given": {"type": "bearer", "token": "{{access_token}}"}},
       "requests": [{"name": "all patients, 100 MB", "url": "Patient/big100",
                     "expect": {"status": 200, "json": [{"path": "$.total", "equals": 100000},
                                                        {"path": "$.entry", "count": 100000}]}}]}
json.dump(doc, open(os.path.join(work, "fhircheck-big100.json"), "w"), indent=1)
with open(os.path.join(work, "hurl-big100.hurl"), "w") as fh:
    fh.write("GET {{base_url}}/fhir/Patient/big100\nAuthorization: Bearer {{access_token}}\nAccept: application/fhir+json\n"
             "HTTP 200\n[Asserts]\njsonpath \"$.total\" == 100000\njsonpath \"$.entry\" count == 100000\n")
for i in range(1, 7):
    c = {"name": f"jobs {i} (one request answered after 300 ms)", "base_url": "http://127.0.0.1:18090",
         "requests": [{"name": f"slow {i}", "url": "slow?ms=300", "expect": {"status": 200, "resource_type": "Patient"}}]}
    json.dump(c, open(os.path.join(work, f"fhircheck-jobs{i}.json"), "w"), indent=1)
    with open(os.path.join(work, f"hurl-jobs{i}.hurl"), "w") as fh:
        fh.write("GET http://127.0.0.1:18090/slow?ms=300\nHTTP 200\n[Asserts]\njsonpath \"$.resourceType\" == \"Patient\"\n")
