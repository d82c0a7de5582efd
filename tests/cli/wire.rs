//! The sandbox's wire shapes, pinned: what Entra and Azure's FHIR services send.

use serde_json::Value;

use crate::Target;
use fhircheck::sandbox::registrations as reg;

struct Wire {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

impl Wire {
    fn new() -> Wire {
        Wire {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: reqwest::Client::new(),
        }
    }

    fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        self.rt.block_on(async {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap();
            Answer {
                status,
                headers,
                json: serde_json::from_str(&text).unwrap_or(Value::Null),
            }
        })
    }

    fn token(&self, t: &Target, v2: bool, form: &[(&str, &str)]) -> Answer {
        let ep = &t.sandbox.endpoints;
        let path = if v2 {
            "oauth2/v2.0/token"
        } else {
            "oauth2/token"
        };
        self.send(
            self.client
                .post(format!("{}/{}/{path}", ep.base, reg::TENANT))
                .form(form),
        )
    }
}

#[test]
fn v1_answers_with_string_numbers_and_v2_with_numbers() {
    let t = Target::start("healthy");
    let w = Wire::new();
    let fhir = t.fhir_url().to_string();
    let v1 = w.token(
        &t,
        false,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", reg::CLIENT_ID),
            ("client_secret", reg::SECRET_VALUE),
            ("resource", &fhir),
        ],
    );
    assert_eq!(v1.status, 200);
    assert_eq!(v1.json["expires_in"], "3599");
    assert!(v1.json["expires_on"].is_string());
    assert_eq!(v1.json["resource"], fhir.as_str());
    let scope = format!("{fhir}/.default");
    let v2 = w.token(
        &t,
        true,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", reg::CLIENT_ID),
            ("client_secret", reg::SECRET_VALUE),
            ("scope", &scope),
        ],
    );
    assert_eq!(v2.status, 200);
    assert_eq!(v2.json["expires_in"], 3599);
    assert!(v2.json.get("resource").is_none());
    let claims =
        fhircheck::auth::Claims::decode(v2.json["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        claims.str("ver"),
        Some("1.0"),
        "the resource accepts v1 tokens, whatever the endpoint"
    );
    assert_eq!(
        claims.str("iss"),
        Some(format!("https://sts.windows.net/{}/", reg::TENANT).as_str())
    );
    assert_eq!(claims.str("appid"), Some(reg::CLIENT_ID));
    assert_eq!(claims.str("oid"), Some(reg::CLIENT_OID));
    assert_eq!(claims.header["kid"], fhircheck::sandbox::token::KEY_ID);
}

#[test]
fn basic_client_authentication_is_accepted() {
    let t = Target::start("healthy");
    let w = Wire::new();
    let fhir = t.fhir_url().to_string();
    let url = format!(
        "{}/{}/oauth2/token",
        t.sandbox.endpoints.base,
        reg::TENANT_DOMAIN
    );
    let a = w.send(
        w.client
            .post(url)
            .basic_auth(reg::CLIENT_ID, Some(reg::SECRET_VALUE.replace('~', "%7E")))
            .form(&[
                ("grant_type", "client_credentials"),
                ("resource", fhir.as_str()),
            ]),
    );
    assert_eq!(a.status, 200, "{}", a.json);
}

#[test]
fn errors_are_shaped_as_entra_shapes_them() {
    let t = Target::start("healthy");
    let w = Wire::new();
    let fhir = t.fhir_url().to_string();
    let scope = format!("{fhir}/.default");
    type Form<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(u64, bool, Form<'_>)> = vec![
        (
            7000215,
            false,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", reg::CLIENT_ID),
                ("client_secret", reg::SECRET_ID),
                ("resource", &fhir),
            ],
        ),
        (
            700016,
            false,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", reg::UNKNOWN_CLIENT_ID),
                ("client_secret", "x"),
                ("resource", &fhir),
            ],
        ),
        (
            7000218,
            false,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", reg::CLIENT_ID),
                ("resource", &fhir),
            ],
        ),
        (
            500011,
            false,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", reg::CLIENT_ID),
                ("client_secret", reg::SECRET_VALUE),
                ("resource", "https://nothing.example"),
            ],
        ),
        (
            900144,
            false,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", reg::CLIENT_ID),
                ("client_secret", reg::SECRET_VALUE),
            ],
        ),
        (
            1002012,
            true,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", reg::CLIENT_ID),
                ("client_secret", reg::SECRET_VALUE),
                ("scope", &fhir),
            ],
        ),
        (
            700022,
            true,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", reg::CLIENT_ID),
                ("client_secret", reg::SECRET_VALUE),
                ("scope", "https://a/.default https://b/.default"),
            ],
        ),
        (
            901002,
            true,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", reg::CLIENT_ID),
                ("client_secret", reg::SECRET_VALUE),
                ("resource", &fhir),
                ("scope", &scope),
            ],
        ),
        (
            50012,
            true,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", reg::CLIENT_ID),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", "e.e.e"),
                ("scope", &scope),
            ],
        ),
    ];
    for (code, v2, form) in cases {
        let a = w.token(&t, v2, &form);
        assert_eq!(a.status, 400, "{code}");
        let j = &a.json;
        assert_eq!(j["error_codes"][0], code, "{j}");
        let desc = j["error_description"].as_str().unwrap();
        assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
        assert!(
            desc.contains("\r\nTrace ID: ")
                && desc.contains("\r\nCorrelation ID: ")
                && desc.contains("\r\nTimestamp: ")
        );
        for k in [
            "error",
            "timestamp",
            "trace_id",
            "correlation_id",
            "error_uri",
        ] {
            assert!(j[k].is_string(), "{code} lacks {k}");
        }
    }
    let unknown = w.send(
        w.client
            .post(format!(
                "{}/{}/oauth2/token",
                t.sandbox.endpoints.base,
                reg::UNKNOWN_TENANT
            ))
            .form(&[("grant_type", "client_credentials")]),
    );
    assert_eq!(unknown.json["error_codes"][0], 90002);
}

#[test]
fn expired_secret_is_7000222() {
    let t = Target::start("expired-secret");
    let w = Wire::new();
    let fhir = t.fhir_url().to_string();
    let a = w.token(
        &t,
        false,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", reg::CLIENT_ID),
            ("client_secret", reg::SECRET_VALUE),
            ("resource", &fhir),
        ],
    );
    assert_eq!(a.json["error_codes"][0], 7000222);
}

#[test]
fn fhir_challenges_and_outcomes() {
    let t = Target::start("healthy");
    let w = Wire::new();
    let fhir = t.fhir_url().to_string();
    let meta = w.send(w.client.get(format!("{fhir}/metadata")));
    assert_eq!(meta.status, 200);
    assert_eq!(meta.json["resourceType"], "CapabilityStatement");
    let ext = &meta.json["rest"][0]["security"]["extension"][0];
    assert_eq!(
        ext["url"],
        "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    );
    assert!(ext["extension"][0]["valueUri"]
        .as_str()
        .unwrap()
        .ends_with("/oauth2/token"));
    let smart = w.send(
        w.client
            .get(format!("{fhir}/.well-known/smart-configuration")),
    );
    assert!(smart.json["token_endpoint"].is_string());

    let anon = w.send(w.client.get(format!("{fhir}/Patient")));
    assert_eq!(anon.status, 401);
    let challenge = anon.headers["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge,
        format!(
            "Bearer authorization_uri=\"{}/{}\", resource_id=\"{fhir}\", realm=\"{fhir}\"",
            t.sandbox.endpoints.base,
            reg::TENANT
        )
    );
    assert_eq!(anon.json["resourceType"], "OperationOutcome");
    assert_eq!(anon.json["issue"][0]["code"], "login");
    assert_eq!(
        anon.json["issue"][0]["diagnostics"],
        "Authentication failed."
    );

    let forged = w.send(
        w.client
            .get(format!("{fhir}/Patient"))
            .bearer_auth("eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUifQ.eyJhdWQiOiJ4In0.c2ln"),
    );
    assert!(forged.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error_description=\"The signing key was not found\""));

    let token = crate::run::obtain_token(&t);
    // A FHIR client names its media type; the sandbox, like Azure, answers 415 to a body without one.
    let auth = |r: reqwest::RequestBuilder| {
        r.bearer_auth(&token)
            .header("Content-Type", "application/fhir+json")
    };
    let created = w.send(auth(w.client.post(format!("{fhir}/Patient"))).header("Content-Type", "application/fhir+json").body(r#"{"resourceType":"Patient","identifier":[{"system":"urn:s","value":"v1"}],"name":[{"family":"Doe"}]}"#));
    assert_eq!(created.status, 201);
    let id = created.json["id"].as_str().unwrap().to_string();
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        format!("{fhir}/Patient/{id}/_history/1")
    );
    assert_eq!(created.headers["etag"].to_str().unwrap(), "W/\"1\"");
    assert_eq!(created.json["meta"]["versionId"], "1");
    assert!(created.json["meta"]["lastUpdated"].is_string());

    for (q, n) in [
        ("identifier=urn:s|v1", 1),
        ("identifier=v1", 1),
        ("name=do", 1),
        (&format!("_id={id}") as &str, 1),
        ("identifier=urn:x|v1", 0),
    ] {
        let s = w.send(auth(w.client.get(format!("{fhir}/Patient?{q}"))));
        assert_eq!(s.json["total"], n, "{q}");
        assert_eq!(s.json["type"], "searchset");
        assert_eq!(s.json["link"][0]["relation"], "self");
    }
    for _ in 0..2 {
        w.send(
            auth(w.client.post(format!("{fhir}/Patient"))).body(r#"{"resourceType":"Patient"}"#),
        );
    }
    let page = w.send(auth(w.client.get(format!("{fhir}/Patient?_count=2"))));
    assert_eq!(page.json["total"], 3);
    assert_eq!(page.json["entry"].as_array().unwrap().len(), 2);
    assert_eq!(page.json["link"][1]["relation"], "next");

    let plain = w.send(
        w.client
            .post(format!("{fhir}/Patient"))
            .bearer_auth(&token)
            .header("Content-Type", "text/plain")
            .body("{}"),
    );
    assert_eq!(plain.status, 415);
    assert_eq!(plain.json["issue"][0]["code"], "not-supported");
    let bad = w.send(auth(w.client.post(format!("{fhir}/Patient"))).body("{not json"));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json["issue"][0]["code"], "structure");
    let missing = w.send(auth(w.client.get(format!("{fhir}/Patient/nope"))));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json["issue"][0]["code"], "not-found");
    let deleted = w.send(auth(w.client.delete(format!("{fhir}/Patient/{id}"))));
    assert_eq!(deleted.status, 204);
    let gone = w.send(auth(w.client.get(format!("{fhir}/Patient/{id}"))));
    assert_eq!(gone.status, 410);
    let history = w.send(auth(
        w.client.get(format!("{fhir}/Patient/{id}/_history/1")),
    ));
    assert_eq!(history.status, 200);
}

#[test]
fn forbidden_and_throttled_answers() {
    let t = Target::start("read-only");
    let w = Wire::new();
    let fhir = t.fhir_url().to_string();
    let token = crate::run::obtain_token(&t);
    let read = w.send(w.client.get(format!("{fhir}/Patient")).bearer_auth(&token));
    assert_eq!(read.status, 200);
    let write = w.send(
        w.client
            .post(format!("{fhir}/Patient"))
            .bearer_auth(&token)
            .body(r#"{"resourceType":"Patient"}"#),
    );
    assert_eq!(write.status, 403);
    assert_eq!(write.json["issue"][0]["code"], "forbidden");
    assert_eq!(
        write.json["issue"][0]["diagnostics"],
        "Authorization failed."
    );

    let t = Target::start("throttled");
    let token = crate::run::obtain_token(&t);
    let fhir = t.fhir_url().to_string();
    let first = w.send(w.client.get(format!("{fhir}/Patient")).bearer_auth(&token));
    assert_eq!(first.status, 429);
    assert_eq!(first.headers["retry-after"], "1");
    assert_eq!(first.json["issue"][0]["code"], "throttled");
    let second = w.send(w.client.get(format!("{fhir}/Patient")).bearer_auth(&token));
    assert_eq!(second.status, 200);
}

#[test]
fn discovery_and_keys_verify_issued_tokens() {
    let t = Target::start("healthy");
    let w = Wire::new();
    let base = &t.sandbox.endpoints.base;
    let v1 = w.send(w.client.get(format!(
        "{base}/{}/.well-known/openid-configuration",
        reg::TENANT
    )));
    assert_eq!(
        v1.json["issuer"],
        format!("https://sts.windows.net/{}/", reg::TENANT)
    );
    let v2 = w.send(w.client.get(format!(
        "{base}/{}/v2.0/.well-known/openid-configuration",
        reg::TENANT
    )));
    assert_eq!(v2.json["issuer"], format!("{base}/{}/v2.0", reg::TENANT));
    let jwks = w.send(w.client.get(v1.json["jwks_uri"].as_str().unwrap()));
    let key = &jwks.json["keys"][0];
    let token = crate::run::obtain_token(&t);
    let dk = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[t.fhir_url()]);
    jsonwebtoken::decode::<Value>(&token, &dk, &v).expect("the published key verifies the token");
}

#[test]
fn sandbox_listens_on_loopback_only() {
    let t = Target::start("healthy");
    assert!(t.sandbox.endpoints.base.starts_with("http://127.0.0.1:"));
}
