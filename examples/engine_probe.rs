use std::time::Duration;

use fhircheck::postman::script::{Engine, Header, Info, Input, ScriptRequest, ScriptResponse};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let body = r#"{"resourceType":"Patient","id":"1","name":[{"family":"Kirk"}]}"#;
    let input = Input {
        globals: Default::default(),
        collection: Default::default(),
        environment: Default::default(),
        data: Default::default(),
        local: Default::default(),
        request: ScriptRequest {
            url: "http://127.0.0.1/fhir/Patient/1".into(),
            method: "GET".into(),
            headers: vec![],
            body: None,
        },
        response: Some(ScriptResponse {
            code: 200,
            status: "OK".into(),
            headers: vec![Header {
                key: "Content-Type".into(),
                value: "application/fhir+json".into(),
            }],
            body: body.into(),
            response_time: 1,
        }),
        info: Info {
            event_name: "test".into(),
            iteration: 0,
            iteration_count: 1,
            request_name: "r".into(),
            request_id: "r".into(),
            environment_name: None,
        },
    };
    let script = "pm.test('status 200', function () { pm.response.to.have.status(200); });\n\
                  pm.test('is Patient', function () { pm.expect(pm.response.json().resourceType).to.eql('Patient'); });";
    let engine = Engine::new(Duration::from_secs(5)).unwrap();
    for _ in 0..n {
        engine.run(script, &input).unwrap();
    }
}
