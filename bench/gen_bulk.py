#!/usr/bin/env python3
"""Writes the native 1,000-request bulk collection (same work as the harness's bulk cases)."""
import json, sys
out = sys.argv[1]
requests = [{"name": f"Patient/1 #{i + 1}", "url": "Patient/1",
             "expect": {"status": 200, "resource_type": "Patient"}} for i in range(1000)]
doc = {"name": "bench bulk (1,000 x Patient/1, 2 assertions)", "base_url": "{{base_url}}/fhir",
       "variables": {"base_url": "http://127.0.0.1:18080"},
       "auth": {"given": {"type": "bearer", "token": "{{access_token}}"}}, "requests": requests}
json.dump(doc, open(out, "w"), indent=1)
# The same work with two FHIRPath checks per request instead of the resourceType check: what the
# engine costs per answer (a typed read of the body and two evaluations).
fp = [{"name": f"Patient/1 #{i + 1}", "url": "Patient/1",
       "expect": {"status": 200, "fhirpath": [{"expression": "Patient.id.exists()"},
                                              {"expression": "id.length()", "greater_than": 0}]}}
      for i in range(1000)]
doc = dict(doc, name="bench bulk (1,000 x Patient/1, FHIRPath checks)", requests=fp)
json.dump(doc, open(out.replace("bulk-1000", "fhirpath-1000"), "w"), indent=1)
