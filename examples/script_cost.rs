//! The script engine's cost: creating the runtime once per run, and running one typical
//! Postman test script (two pm.test blocks on a JSON body). Used by bench/run.sh.
//!
//! `script_cost --probe N`: start the engine, run the script N times, print nothing: for counting
//! instructions under callgrind, which wall-clock timings of a millisecond can not be trusted for.

use std::time::{Duration, Instant};

use fhircheck::postman::script::{
    Engine, Header, Info, Input, ScriptRequest, ScriptResponse, Worker,
};

fn main() {
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
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--probe") {
        let n: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0);
        let engine = Engine::new(Duration::from_secs(5)).expect("engine");
        for _ in 0..n {
            engine.run(script, &input).expect("script runs");
        }
        return;
    }
    let t0 = Instant::now();
    let engine = Engine::new(Duration::from_secs(5)).expect("engine");
    let startup = t0.elapsed();
    let first = Instant::now();
    engine.run(script, &input).expect("script runs");
    let first = first.elapsed();
    let n = 1000;
    let t1 = Instant::now();
    for _ in 0..n {
        let out = engine.run(script, &input).expect("script runs");
        assert!(out.tests.iter().all(|t| t.passed));
    }
    let per = t1.elapsed() / n;
    println!("engine start-up: {:.3} ms", startup.as_secs_f64() * 1000.0);
    println!("first script:    {:.3} ms", first.as_secs_f64() * 1000.0);
    println!("per script:      {:.3} ms (mean of {n} runs; the API is set up once per run, state reset per script)", per.as_secs_f64() * 1000.0);
    // The way a Postman run calls it: on the engine's own thread, through a channel.
    let mut worker = Worker::new(Duration::from_secs(5), None).expect("worker");
    let t2 = Instant::now();
    for _ in 0..n {
        let out = worker.run(script, &input).expect("script runs");
        assert_eq!(out.tests.len(), 2);
    }
    let per_worker = t2.elapsed() / n;
    println!(
        "per script, as a run calls it (engine thread): {:.3} ms",
        per_worker.as_secs_f64() * 1000.0
    );
}
